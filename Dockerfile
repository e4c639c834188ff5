# Build: docker build -t syndicate .
# Run:   docker run -v syndicate-data:/var/lib/syndicate \
#          -v $PWD/syndicate.yaml:/etc/syndicate/syndicate.yaml:ro syndicate
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/syndicate ./cmd/syndicate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/syndicate /usr/local/bin/syndicate
# The store lives on a volume: store: "sqlite:/var/lib/syndicate/syndicate.db".
WORKDIR /var/lib/syndicate
VOLUME /var/lib/syndicate
USER nonroot:nonroot
EXPOSE 8080
# distroless has no curl: the binary asks its own /readyz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/syndicate", "healthcheck", "--config", "/etc/syndicate/syndicate.yaml"]
ENTRYPOINT ["/usr/local/bin/syndicate"]
CMD ["run", "--config", "/etc/syndicate/syndicate.yaml", "--log-format", "json"]
