# dingbridge: multi-stage build on the current Node.js LTS (24). The build stage type-checks, bundles the
# UI and compiles the hub to plain JavaScript (dist/, npm run build:dist): production runs no TypeScript
# loader, which saves memory and start time. Development and tests keep running the sources with tsx.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run typecheck && npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DINGBRIDGE_DATA_DIR=/data \
    DINGBRIDGE_CHROMIUM_PATH=/usr/bin/chromium
WORKDIR /app
# Headless Chromium prints the monthly KPI report's PDF (config/kpis/monthly.ts); the CJK fonts draw its
# Chinese labels.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
# A non-root user: the embedded PostgreSQL (used when DATABASE_URL is unset) runs as this user too.
RUN groupadd --system dingbridge \
 && useradd --system --gid dingbridge --home-dir /app --shell /usr/sbin/nologin dingbridge \
 && mkdir -p /data && chown dingbridge:dingbridge /data
COPY --from=build /app /app
USER dingbridge
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# V8 heap sizes as in package.json "start" (keep identical): a smaller young generation and a capped old
# generation keep the hub's RSS near 200 MiB under load (docs/BENCHMARKS.md, "Memory").
ENTRYPOINT ["node", "--max-semi-space-size=16", "--max-old-space-size=256", "dist/app/main.js"]
CMD ["serve"]
