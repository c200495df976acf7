# gridlite: build with the official Swift toolchain, run on a slim Debian with the C libraries only.

FROM swift:6.3.1-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libbson-dev libmongoc-dev libpcre2-dev libsqlite3-dev libsnappy-dev zlib1g-dev libzstd-dev \
      libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve dependencies in their own layer so source edits do not refetch them.
# Package.resolved is optional (git-ignored); the wildcard lets COPY succeed without it.
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product gridlite --static-swift-stdlib \
 && install -D "$(swift build -c release --show-bin-path)/gridlite" /out/gridlite

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libbson-1.0-0 libpcre2-8-0 libsqlite3-0 libsnappy1v5 zlib1g libzstd1 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 999 --home-dir /data gridlite \
 && mkdir -p /data && chown gridlite:gridlite /data
COPY --from=build /out/gridlite /usr/local/bin/gridlite
USER gridlite
VOLUME /data
EXPOSE 27017 27080
CMD ["gridlite", "serve", "--host", "0.0.0.0", "--port", "27017", "--data-dir", "/data"]
