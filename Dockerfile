# The cairn container image: one static binary on a minimal base.
# See docs/operations.md ("Container image").
#
#   docker build -t cairn --build-arg VERSION=$(git describe --always) .
#   docker run -d -p 7171:7171 -v cairn-data:/var/lib/cairn cairn
FROM golang:1.26-bookworm AS build
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=${VERSION}" -o /out/cairn ./cmd/cairn
RUN mkdir -p /out/data

# distroless/static: CA certificates, /tmp and a non-root user, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cairn /usr/local/bin/cairn
# The data dir, owned by the image's user so that a new volume is too.
COPY --from=build --chown=65532:65532 /out/data /var/lib/cairn
VOLUME /var/lib/cairn
EXPOSE 7171
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/cairn"]
# In a container the API must listen on all interfaces; give it TLS
# (--tls-cert/--tls-key) before publishing it beyond the host.
CMD ["server", "--listen", ":7171", "--data-dir", "/var/lib/cairn"]
