# syntax=docker/dockerfile:1
# Build: the same command CI runs (.ci/build), a static CGO_ENABLED=0 binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG SEKISHO_VERSION=dev
ARG SEKISHO_COMMIT=unknown
RUN SEKISHO_VERSION=${SEKISHO_VERSION} SEKISHO_COMMIT=${SEKISHO_COMMIT} .ci/build /out/sekisho \
 && mkdir -p /out/data

# Run: distroless static, non-root, the database on a volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sekisho /sekisho
COPY --from=build --chown=65532:65532 /out/data /data
COPY pipelines.yaml /etc/sekisho/pipelines.yaml
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
ENV SEKISHO_CONFIG=/etc/sekisho/pipelines.yaml
ENTRYPOINT ["/sekisho"]
CMD ["run", "--db", "/data/sekisho.db", "--listen", ":8080"]
