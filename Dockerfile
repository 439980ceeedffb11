# Multi-stage build of the operator image: bundle the operator and the tenant gateway with esbuild
# (scripts/build.ts: tree-shaken, self-contained, so the runtime stage needs no node_modules), run
# as a non-root user on a distroless Node.js 24 LTS base (no shell, no package manager).
FROM node:24-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts scripts/bundle-options.ts scripts/node.sh ./scripts/
COPY src ./src
RUN npm run build

FROM gcr.io/distroless/nodejs24-debian13:nonroot
WORKDIR /app
# Memory (docs/performance.md, "Memory"): one malloc arena instead of one per thread (V8's
# compiler and GC threads each kept an arena of freed memory); V8 favouring size over speed and
# without its optimizing compilers (Maglev, TurboFan), whose code and compile zones cost about
# 5 MiB: the operator waits on AWS's rates, not its CPU (onboarding took as long, with about 18%
# more CPU time). Node allows none of these flags in NODE_OPTIONS, so they are here, and the
# chart adds the heap limits (nodeOptions). bench/operator.ts runs the operator with this ENV and
# these flags. The gateway's Deployment sets its own command, so it runs without the flags (the
# ENV applies to it too).
ENV MALLOC_ARENA_MAX=1
# package.json gives dist/*.js their module type (ES modules).
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist ./dist
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "--optimize-for-size", "--no-opt", "--no-maglev", "dist/main.js"]
