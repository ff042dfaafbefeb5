# syntax=docker/dockerfile:1
# imarchive: a static binary on a distroless, non-root runtime image.
# The build step is `make static`, the same command CI runs, so CI builds exactly what this image ships.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=
RUN make static VERSION=${VERSION}
# serve's spool directory, owned by the runtime user so that a named volume mounted there is writable
RUN mkdir -p /out/spool

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/imarchive /usr/local/bin/imarchive
COPY --from=build --chown=65532:65532 --chmod=700 /out/spool /var/lib/imarchive/spool
USER nonroot:nonroot
# 8080: platform callbacks (serve); 8081: /healthz, /readyz, /metrics (serve, IMARCHIVE_SERVE_OPS_LISTEN);
# 9091: /healthz, /readyz, /metrics (consume)
EXPOSE 8080 8081 9091
ENTRYPOINT ["/usr/local/bin/imarchive"]
CMD ["serve"]
