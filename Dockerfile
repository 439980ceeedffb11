# Multi-stage build of the operator image: bundle the operator and the tenant gateway with esbuild
# (scripts/build.ts: tree-shaken, self-contained, so the runtime stage needs no node_modules), run
# as a non-root user on a distroless Node.js 24 LTS base (no shell, no package manager).
FROM node:24-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts scripts/node.sh ./scripts/
COPY src ./src
RUN npm run build

FROM gcr.io/distroless/nodejs24-debian13:nonroot
WORKDIR /app
# package.json gives dist/*.js their module type (ES modules).
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist ./dist
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
