# syntax=docker/dockerfile:1
# tisync: two stages. The build stage compiles the TypeScript workspaces; the runtime stage holds only
# the production dependencies, the compiled dist/ folders and the package files, and runs as a non-root
# user. Node 22 LTS (DESIGN §2). Build: `docker build -t tisync .`; run: see docker-compose.yml.

# ---- build -------------------------------------------------------------------------------------------
FROM node:22-slim AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages/domain/package.json packages/domain/package.json
COPY packages/adapters/package.json packages/adapters/package.json
COPY packages/app/package.json packages/app/package.json
RUN npm ci --no-audit --no-fund
COPY packages/domain/tsconfig.json packages/domain/tsconfig.json
COPY packages/domain/src packages/domain/src
COPY packages/adapters/tsconfig.json packages/adapters/tsconfig.json
COPY packages/adapters/src packages/adapters/src
COPY packages/app/tsconfig.json packages/app/tsconfig.json
COPY packages/app/src packages/app/src
COPY packages/app/bin packages/app/bin
RUN npm run build

# ---- runtime -----------------------------------------------------------------------------------------
FROM node:22-slim AS runtime
ENV NODE_ENV=production \
    TISYNC_DATA_DIR=/var/lib/tisync
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/domain/package.json packages/domain/package.json
COPY packages/adapters/package.json packages/adapters/package.json
COPY packages/app/package.json packages/app/package.json
# Production dependencies only. Install scripts are skipped: the only ones in the tree build native
# add-ons from source as a fallback (@parcel/watcher, the optional msgpackr-extract); prebuilt binaries
# or pure-JS paths are used instead, so the image needs no compiler, python or make.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /var/lib/tisync \
 && chown node:node /var/lib/tisync
COPY --from=build /app/packages/domain/dist packages/domain/dist
COPY --from=build /app/packages/adapters/dist packages/adapters/dist
COPY --from=build /app/packages/app/dist packages/app/dist
COPY --from=build /app/packages/app/bin packages/app/bin
# The node image's unprivileged user (uid 1000). The code is owned by root and read-only to it; only the
# embedded store's data directory (used when TISYNC_DATABASE_URL is unset) is writable.
USER node
VOLUME ["/var/lib/tisync"]
ENTRYPOINT ["node", "packages/app/bin/tisync.js"]
CMD ["--help"]
