#!/usr/bin/env bash
# Installs OpenSearch 2.19 with its k-NN plugin for the vector index contract test, idempotently,
# into "${TRO_CACHE:-$HOME/.cache/tenant-rag-operator}/opensearch-<version>", and prints that dir.
#
# Everything comes from Maven Central through the machine's own Maven configuration:
# - the minimal distribution org.opensearch.distribution.integ-test-zip:opensearch (core and the
#   transport module only, no bundled JDK, no security plugin);
# - org.opensearch.plugin:opensearch-knn (a plugin zip; its Java code only: the faiss and nmslib
#   native libraries are not in it, so only the lucene engine can build graphs);
# - lang-painless, which k-NN extends: Maven has it as jars, not as a plugin zip, so the module
#   directory is assembled here from its jar, its dependencies (read from its pom) and a
#   descriptor and security policy written as the OpenSearch build writes them.
# Java 17 (the machine's) runs OpenSearch 2.19; 3.x needs 21. k-NN must match core exactly.
set -euo pipefail
OPENSEARCH_VERSION="${OPENSEARCH_VERSION:-2.19.1}"
KNN_VERSION="${KNN_VERSION:-${OPENSEARCH_VERSION}.0}"
CACHE="${TRO_CACHE:-$HOME/.cache/tenant-rag-operator}"
DEST="$CACHE/opensearch-$OPENSEARCH_VERSION"

# OpenSearch refuses to run as root, and no setting overrides that: as root, make the unprivileged
# user the start helper (test/support/opensearch.ts) runs it as.
OPENSEARCH_USER="${OPENSEARCH_USER:-tro-opensearch}"
if [ "$(id -u)" = 0 ] && ! id -u "$OPENSEARCH_USER" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$OPENSEARCH_USER" >&2
fi

if [ -f "$DEST/.installed" ] && [ -f "$DEST/plugins/opensearch-knn/plugin-descriptor.properties" ]; then
  echo "$DEST"
  exit 0
fi

command -v mvn >/dev/null 2>&1 || { echo "opensearch: mvn is required" >&2; exit 1; }
: "${JAVA_HOME:=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
export JAVA_HOME

mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/opensearch-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# One throwaway pom naming every artifact; Maven resolves them with the machine's settings.
cat >"$WORK/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.tenant-rag-operator</groupId>
  <artifactId>opensearch-fetch</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.opensearch.distribution.integ-test-zip</groupId><artifactId>opensearch</artifactId><version>$OPENSEARCH_VERSION</version><type>zip</type><exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>
    <dependency><groupId>org.opensearch.plugin</groupId><artifactId>opensearch-knn</artifactId><version>$KNN_VERSION</version><type>zip</type><exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>
    <dependency><groupId>org.opensearch.plugin</groupId><artifactId>lang-painless</artifactId><version>$OPENSEARCH_VERSION</version></dependency>
    <!-- the SPI needs core, which the distribution already has -->
    <dependency><groupId>org.opensearch.plugin</groupId><artifactId>opensearch-scripting-painless-spi</artifactId><version>$OPENSEARCH_VERSION</version><exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>
  </dependencies>
</project>
EOF
echo "opensearch: fetching OpenSearch $OPENSEARCH_VERSION and k-NN $KNN_VERSION with Maven" >&2
# Transitive: lang-painless brings the painless SPI, antlr4-runtime and asm (its pom excludes the rest).
mvn -q -B -f "$WORK/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
  -DoutputDirectory="$WORK/artifacts" -DincludeScope=runtime >&2

STAGE="$WORK/opensearch-$OPENSEARCH_VERSION"
(cd "$WORK" && unzip -q "artifacts/opensearch-$OPENSEARCH_VERSION.zip")
[ -x "$STAGE/bin/opensearch" ] || { echo "opensearch: unexpected layout of the distribution zip" >&2; exit 1; }

# lang-painless as the module the full distribution ships.
LP="$STAGE/modules/lang-painless"
mkdir -p "$LP"
for jar in "$WORK"/artifacts/*.jar; do
  case "$(basename "$jar")" in
    lang-painless-* | opensearch-scripting-painless-spi-* | antlr4-runtime-* | asm-*) cp "$jar" "$LP/" ;;
    *) echo "opensearch: unexpected artifact $(basename "$jar")" >&2; exit 1 ;;
  esac
done
cat >"$LP/plugin-descriptor.properties" <<EOF
description=An easy, safe and fast scripting language for OpenSearch
version=$OPENSEARCH_VERSION
name=lang-painless
classname=org.opensearch.painless.PainlessPlugin
java.version=11
opensearch.version=$OPENSEARCH_VERSION
extended.plugins=
has.native.controller=false
EOF
cat >"$LP/plugin-security.policy" <<'EOF'
grant {
  // needed to generate runtime classes
  permission java.lang.RuntimePermission "createClassLoader";
  // needed to find the classloader to load allowlisted classes from
  permission java.lang.RuntimePermission "getClassLoader";
};
EOF

echo "opensearch: installing the k-NN plugin" >&2
"$STAGE/bin/opensearch-plugin" install --batch "file://$WORK/artifacts/opensearch-knn-$KNN_VERSION.zip" >&2
# Readable by the unprivileged user that runs it (the start helper links it outside \$HOME).
chmod -R a+rX "$STAGE"
touch "$STAGE/.installed"

rm -rf "$DEST"
mv "$STAGE" "$DEST"
echo "$DEST"
