# amb2api on Bun. Exec-form CMD so Bun is PID 1's signal target (SIGTERM flushes storage).
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json bun.lock ./
COPY patches ./patches
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.5-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=7861 \
    CREDENTIALS_DIR=/data/creds \
    LOG_FILE=/data/log.txt \
    BUN_CONFIG_MAX_HTTP_REQUESTS=65535
COPY --from=deps /app/node_modules ./node_modules
COPY package.json bun.lock ./
COPY core ./core
COPY plugins ./plugins
COPY views ./views
# The file backend's directory is a volume; the image runs as the unprivileged "bun" user.
RUN mkdir -p /data/creds && chown -R bun:bun /data
USER bun
VOLUME ["/data"]
EXPOSE 7861
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:' + (process.env.PORT || 7861) + '/health'); process.exit(r.ok ? 0 : 1)"]
CMD ["bun", "core/main.ts"]
