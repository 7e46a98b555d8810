"""cloudfront-facade: an async gRPC sidecar for CloudFront origin access identities."""
