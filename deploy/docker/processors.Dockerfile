# syntax=docker/dockerfile:1
# Insights processors: Kafka -> enrichment, sessions, attribution -> ClickHouse (HTTP only for /metrics and health).
# Build from the repository root:  docker build -f deploy/docker/processors.Dockerfile -t insights-processors .
# Runs as the image's non-root user (APP_UID), listens on 8080; /healthz is liveness, /readyz readiness.
# Settings come from environment variables named as in docs/configuration.md (Section__Key).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# The projects a service builds from (its own, the shared libraries it references); tests and build output are left out by the .dockerignore beside this file.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY contracts/ contracts/
COPY service-defaults/ service-defaults/
COPY control-plane/ control-plane/
COPY storage/ storage/
COPY processors/ processors/
COPY ingest/ ingest/
COPY query-api/ query-api/
RUN dotnet restore processors/Insights.Processors/Insights.Processors.csproj
RUN dotnet publish processors/Insights.Processors/Insights.Processors.csproj -c Release --no-restore -o /app -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl for the health check only; nothing else is added to the runtime image.
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# URLS (unprefixed) overrides the loopback address in the services' appsettings.json; ASPNETCORE_URLS and
# ASPNETCORE_HTTP_PORTS would not (appsettings.json is read after them).
ENV URLS=http://+:8080 \
    DOTNET_gcServer=1 \
    DOTNET_EnableDiagnostics=0
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["dotnet", "/app/Insights.Processors.dll"]
