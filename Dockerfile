# syntax=docker/dockerfile:1
# One image for every role; the command picks it: run (default: scheduler + web), serve, worker, or any CLI verb.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props FinNews.sln ./
COPY src/FinNews.Core/FinNews.Core.csproj src/FinNews.Core/
COPY src/FinNews/FinNews.csproj src/FinNews/
RUN dotnet restore src/FinNews/FinNews.csproj
COPY src/ src/
RUN dotnet publish src/FinNews/FinNews.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY config/ ./config/
# Non-root: the image's built-in 'app' user (uid 1654) owns only the data folder.
RUN mkdir -p /app/data && chown -R app:app /app/data
USER app
ENV FINNEWS_CONFIG_DIR=/app/config \
    FINNEWS_Web__Urls=http://0.0.0.0:8080 \
    DOTNET_gcServer=0
VOLUME ["/app/data"]
EXPOSE 8080
# Liveness of the web roles (run, serve): GET /health through bash's /dev/tcp (the runtime image has no curl). Worker
# containers serve no HTTP: compose and Kubernetes turn this check off for them.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/app/finnews"]
CMD ["run"]
