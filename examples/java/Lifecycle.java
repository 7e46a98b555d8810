// Runs the whole origin access identity lifecycle against a cloudfront-facade:
// create -> get -> get config -> update (with the ETag) -> update with the stale ETag (ABORTED)
// -> list -> delete -> get (NOT_FOUND), and prints the google.rpc.ErrorInfo of the two failed
// calls. With --oac it then runs the same six RPCs of cloudfront.v1.OriginAccessControlService,
// and a second create of the same name, reading the name from the ALREADY_EXISTS ErrorInfo.
//
//   java -cp "$CLASSPATH" Lifecycle --addr 127.0.0.1:50051 [--oac] [--token-file FILE]
//
// Built with Debian bookworm's grpc-java 1.41.3, protobuf-java 3.21.12 and OpenJDK 17 (see
// build.sh). Exits 0 when every step went as expected, 1 otherwise; the last line printed is a
// JSON summary either way.

import cloudfront.v1.OriginAccessControlServiceGrpc;
import cloudfront.v1.OriginAccessControlServiceOuterClass.CreateOriginAccessControlRequest;
import cloudfront.v1.OriginAccessControlServiceOuterClass.CreateOriginAccessControlResponse;
import cloudfront.v1.OriginAccessControlServiceOuterClass.DeleteOriginAccessControlRequest;
import cloudfront.v1.OriginAccessControlServiceOuterClass.GetOriginAccessControlConfigRequest;
import cloudfront.v1.OriginAccessControlServiceOuterClass.GetOriginAccessControlConfigResponse;
import cloudfront.v1.OriginAccessControlServiceOuterClass.GetOriginAccessControlRequest;
import cloudfront.v1.OriginAccessControlServiceOuterClass.GetOriginAccessControlResponse;
import cloudfront.v1.OriginAccessControlServiceOuterClass.ListOriginAccessControlsRequest;
import cloudfront.v1.OriginAccessControlServiceOuterClass.OriginAccessControlConfig;
import cloudfront.v1.OriginAccessControlServiceOuterClass.OriginAccessControlList;
import cloudfront.v1.OriginAccessControlServiceOuterClass.OriginAccessControlOriginTypes;
import cloudfront.v1.OriginAccessControlServiceOuterClass.OriginAccessControlSigningBehaviors;
import cloudfront.v1.OriginAccessControlServiceOuterClass.OriginAccessControlSigningProtocols;
import cloudfront.v1.OriginAccessControlServiceOuterClass.OriginAccessControlSummary;
import cloudfront.v1.OriginAccessControlServiceOuterClass.UpdateOriginAccessControlRequest;
import cloudfront.v1.OriginAccessControlServiceOuterClass.UpdateOriginAccessControlResponse;
import cloudfront.v1.OriginAccessIdentityServiceGrpc;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.CloudFrontOriginAccessIdentityConfig;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.CloudFrontOriginAccessIdentityList;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.CloudFrontOriginAccessIdentitySummary;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.CreateCloudFrontOriginAccessIdentityRequest;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.CreateCloudFrontOriginAccessIdentityResponse;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.DeleteCloudFrontOriginAccessIdentityRequest;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.GetCloudFrontOriginAccessIdentityConfigRequest;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.GetCloudFrontOriginAccessIdentityConfigResponse;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.GetCloudFrontOriginAccessIdentityRequest;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.GetCloudFrontOriginAccessIdentityResponse;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.ListCloudFrontOriginAccessIdentitiesRequest;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.UpdateCloudFrontOriginAccessIdentityRequest;
import cloudfront.v1.OriginAccessIdentityServiceOuterClass.UpdateCloudFrontOriginAccessIdentityResponse;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

public final class Lifecycle {
  /** A step did not go as the facade's contract promises. */
  static final class Unexpected extends Exception {
    Unexpected(String message) {
      super(message);
    }
  }

  /** What a failed call told the caller: its code and its google.rpc.ErrorInfo. */
  record ErrorReport(String code, String message, ErrorInfo info) {
    String json() {
      StringJoiner metadata = new StringJoiner(",", "{", "}");
      for (Map.Entry<String, String> entry : info.getMetadataMap().entrySet()) {
        metadata.add(quote(entry.getKey()) + ":" + quote(entry.getValue()));
      }
      return "{\"code\":" + quote(code) + ",\"message\":" + quote(message)
          + ",\"reason\":" + quote(info.getReason()) + ",\"domain\":" + quote(info.getDomain())
          + ",\"metadata\":" + metadata + "}";
    }
  }

  private final OriginAccessIdentityServiceGrpc.OriginAccessIdentityServiceBlockingStub oai;
  private final OriginAccessControlServiceGrpc.OriginAccessControlServiceBlockingStub oac;
  private final long deadlineMs;
  final List<String> steps = new ArrayList<>();
  final List<String> oacSteps = new ArrayList<>();
  ErrorReport notFound;
  ErrorReport aborted;
  ErrorReport oacNotFound;
  ErrorReport oacAlreadyExists;

  Lifecycle(ManagedChannel channel, String token, long deadlineMs) {
    var oaiStub = OriginAccessIdentityServiceGrpc.newBlockingStub(channel);
    var oacStub = OriginAccessControlServiceGrpc.newBlockingStub(channel);
    if (token != null) {
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
          "Bearer " + token);
      oaiStub = oaiStub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
      oacStub = oacStub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    this.oai = oaiStub;
    this.oac = oacStub;
    this.deadlineMs = deadlineMs;
  }

  /** Each call gets its own deadline. */
  private OriginAccessIdentityServiceGrpc.OriginAccessIdentityServiceBlockingStub oai() {
    return oai.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
  }

  private OriginAccessControlServiceGrpc.OriginAccessControlServiceBlockingStub oac() {
    return oac.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
  }

  /** The google.rpc.ErrorInfo the facade put in the status details, or null. */
  static ErrorInfo errorInfoOf(Throwable failure) throws InvalidProtocolBufferException {
    com.google.rpc.Status status = StatusProto.fromThrowable(failure);
    if (status == null) {
      return null;
    }
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        return detail.unpack(ErrorInfo.class);
      }
    }
    return null;
  }

  /** Runs `call`, which must fail with `code` and carry an ErrorInfo. */
  static ErrorReport expectFailure(Runnable call, Status.Code code, String what)
      throws Unexpected, InvalidProtocolBufferException {
    try {
      call.run();
    } catch (StatusRuntimeException failure) {
      Status status = failure.getStatus();
      if (status.getCode() != code) {
        throw new Unexpected(what + " failed with " + status.getCode() + ", not " + code + ": "
            + status.getDescription());
      }
      ErrorInfo info = errorInfoOf(failure);
      if (info == null) {
        throw new Unexpected("the " + code + " error carried no google.rpc.ErrorInfo");
      }
      System.out.printf("%-11s code=%s reason=%s domain=%s%n", what, code, info.getReason(),
          info.getDomain());
      return new ErrorReport(code.name(), status.getDescription(), info);
    }
    throw new Unexpected(what + " succeeded; expected " + code);
  }

  static void expect(boolean condition, String message) throws Unexpected {
    if (!condition) {
      throw new Unexpected(message);
    }
  }

  void oaiLifecycle() throws Unexpected, InvalidProtocolBufferException {
    String ref = "java-example-" + System.nanoTime() + "-" + ProcessHandle.current().pid();
    CreateCloudFrontOriginAccessIdentityResponse created = oai().createCloudFrontOriginAccessIdentity(
        CreateCloudFrontOriginAccessIdentityRequest.newBuilder()
            .setCloudFrontOriginAccessIdentityConfig(CloudFrontOriginAccessIdentityConfig.newBuilder()
                .setCallerReference(ref).setComment("created by examples/java"))
            .build());
    String id = created.getCloudFrontOriginAccessIdentity().getId();
    String etag = created.getEtag();
    expect(!id.isEmpty() && !etag.isEmpty(), "create returned no id or no ETag");
    boolean deleted = false;
    try {
      System.out.printf("%-11s id=%s etag=%s%n", "create", id, etag);
      steps.add("create");

      GetCloudFrontOriginAccessIdentityResponse got = oai().getCloudFrontOriginAccessIdentity(
          GetCloudFrontOriginAccessIdentityRequest.newBuilder().setId(id).build());
      expect(got.getCloudFrontOriginAccessIdentity().getId().equals(id)
          && got.getEtag().equals(etag), "get returned another id or ETag than create");
      steps.add("get");

      GetCloudFrontOriginAccessIdentityConfigResponse config =
          oai().getCloudFrontOriginAccessIdentityConfig(
              GetCloudFrontOriginAccessIdentityConfigRequest.newBuilder().setId(id).build());
      expect(config.getCloudFrontOriginAccessIdentityConfig().getCallerReference().equals(ref),
          "get-config lost the caller reference");
      steps.add("get-config");

      UpdateCloudFrontOriginAccessIdentityRequest update =
          UpdateCloudFrontOriginAccessIdentityRequest.newBuilder()
              .setId(id).setIfMatch(config.getEtag())
              .setCloudFrontOriginAccessIdentityConfig(CloudFrontOriginAccessIdentityConfig.newBuilder()
                  .setCallerReference(ref).setComment("updated by examples/java"))
              .build();
      UpdateCloudFrontOriginAccessIdentityResponse updated =
          oai().updateCloudFrontOriginAccessIdentity(update);
      String stale = etag;
      etag = updated.getEtag();
      expect(updated.getCloudFrontOriginAccessIdentity().getCloudFrontOriginAccessIdentityConfig()
          .getComment().equals("updated by examples/java"), "update did not store the comment");
      expect(!etag.isEmpty() && !etag.equals(stale), "update kept the old ETag");
      System.out.printf("%-11s etag=%s%n", "update", etag);
      steps.add("update");

      // The same update with the ETag read before it: someone else changed the identity since.
      UpdateCloudFrontOriginAccessIdentityRequest staleUpdate =
          update.toBuilder().setIfMatch(stale).build();
      aborted = expectFailure(() -> oai().updateCloudFrontOriginAccessIdentity(staleUpdate),
          Status.Code.ABORTED, "update-stale");
      steps.add("update-stale");

      boolean found = false;
      String marker = "";
      for (int page = 0; page < 100 && !found; page++) {
        CloudFrontOriginAccessIdentityList list = oai().listCloudFrontOriginAccessIdentities(
                ListCloudFrontOriginAccessIdentitiesRequest.newBuilder()
                    .setMarker(marker).setMaxItems(100).build())
            .getCloudFrontOriginAccessIdentityList();
        for (CloudFrontOriginAccessIdentitySummary item : list.getItemsList()) {
          found |= item.getId().equals(id) && item.getComment().equals("updated by examples/java");
        }
        if (!list.getIsTruncated()) {
          break;
        }
        marker = list.getNextMarker();
      }
      expect(found, "list did not contain the updated identity");
      steps.add("list");

      oai().deleteCloudFrontOriginAccessIdentity(DeleteCloudFrontOriginAccessIdentityRequest
          .newBuilder().setId(id).setIfMatch(etag).build());
      deleted = true;
      System.out.printf("%-11s id=%s%n", "delete", id);
      steps.add("delete");

      notFound = expectFailure(() -> oai().getCloudFrontOriginAccessIdentity(
              GetCloudFrontOriginAccessIdentityRequest.newBuilder().setId(id).build()),
          Status.Code.NOT_FOUND, "get-deleted");
      steps.add("get-deleted");
    } finally {
      if (!deleted) {
        // Best effort: never leave an identity behind in a real account after a failed step.
        try {
          oai().deleteCloudFrontOriginAccessIdentity(DeleteCloudFrontOriginAccessIdentityRequest
              .newBuilder().setId(id).setIfMatch(etag).build());
        } catch (StatusRuntimeException ignored) {
          // the step's own failure is the one to report
        }
      }
    }
  }

  static OriginAccessControlConfig oacConfig(String name, String description,
      OriginAccessControlSigningBehaviors behavior) {
    return OriginAccessControlConfig.newBuilder()
        .setName(name)
        .setDescription(description)
        .setSigningProtocol(OriginAccessControlSigningProtocols.ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4)
        .setSigningBehavior(behavior)
        .setOriginAccessControlOriginType(OriginAccessControlOriginTypes.ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3)
        .build();
  }

  void oacLifecycle() throws Unexpected, InvalidProtocolBufferException {
    String name = "java-example-" + System.nanoTime() + "-" + ProcessHandle.current().pid();
    var always = OriginAccessControlSigningBehaviors.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS;
    var noOverride =
        OriginAccessControlSigningBehaviors.ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NO_OVERRIDE;
    CreateOriginAccessControlResponse created = oac().createOriginAccessControl(
        CreateOriginAccessControlRequest.newBuilder()
            .setOriginAccessControlConfig(oacConfig(name, "created by examples/java", always))
            .build());
    String id = created.getOriginAccessControl().getId();
    String etag = created.getEtag();
    expect(!id.isEmpty() && !etag.isEmpty(), "OAC create returned no id or no ETag");
    boolean deleted = false;
    try {
      System.out.printf("%-11s id=%s etag=%s%n", "oac-create", id, etag);
      oacSteps.add("create");

      GetOriginAccessControlResponse got = oac().getOriginAccessControl(
          GetOriginAccessControlRequest.newBuilder().setId(id).build());
      expect(got.getOriginAccessControl().getOriginAccessControlConfig().getName().equals(name)
          && got.getEtag().equals(etag), "OAC get returned another name or ETag than create");
      oacSteps.add("get");

      GetOriginAccessControlConfigResponse config = oac().getOriginAccessControlConfig(
          GetOriginAccessControlConfigRequest.newBuilder().setId(id).build());
      expect(config.getOriginAccessControlConfig().getSigningBehavior() == always,
          "OAC get-config returned another signing behavior");
      oacSteps.add("get-config");

      UpdateOriginAccessControlResponse updated = oac().updateOriginAccessControl(
          UpdateOriginAccessControlRequest.newBuilder()
              .setId(id).setIfMatch(config.getEtag())
              .setOriginAccessControlConfig(oacConfig(name, "updated by examples/java", noOverride))
              .build());
      expect(!updated.getEtag().isEmpty() && !updated.getEtag().equals(etag),
          "OAC update kept the old ETag");
      etag = updated.getEtag();
      oacSteps.add("update");

      boolean found = false;
      String marker = "";
      for (int page = 0; page < 100 && !found; page++) {
        OriginAccessControlList list = oac().listOriginAccessControls(
                ListOriginAccessControlsRequest.newBuilder().setMarker(marker).setMaxItems(100)
                    .build())
            .getOriginAccessControlList();
        for (OriginAccessControlSummary item : list.getItemsList()) {
          found |= item.getId().equals(id) && item.getName().equals(name)
              && item.getSigningBehavior() == noOverride;
        }
        if (!list.getIsTruncated()) {
          break;
        }
        marker = list.getNextMarker();
      }
      expect(found, "OAC list did not contain the updated control");
      oacSteps.add("list");

      // A second control of the same name is ALREADY_EXISTS, and its ErrorInfo names the name:
      // how a caller whose first create lost its answer finds what it made (list, match it).
      oacAlreadyExists = expectFailure(() -> oac().createOriginAccessControl(
              CreateOriginAccessControlRequest.newBuilder()
                  .setOriginAccessControlConfig(oacConfig(name, "a second one", always))
                  .build()),
          Status.Code.ALREADY_EXISTS, "oac-create-again");
      expect(name.equals(oacAlreadyExists.info().getMetadataMap().get("name")),
          "the OAC ALREADY_EXISTS ErrorInfo does not carry the name");

      oac().deleteOriginAccessControl(
          DeleteOriginAccessControlRequest.newBuilder().setId(id).setIfMatch(etag).build());
      deleted = true;
      oacSteps.add("delete");

      oacNotFound = expectFailure(() -> oac().getOriginAccessControl(
              GetOriginAccessControlRequest.newBuilder().setId(id).build()),
          Status.Code.NOT_FOUND, "oac-get");
      oacSteps.add("get-deleted");
    } finally {
      if (!deleted) {
        try {
          oac().deleteOriginAccessControl(
              DeleteOriginAccessControlRequest.newBuilder().setId(id).setIfMatch(etag).build());
        } catch (StatusRuntimeException ignored) {
          // the step's own failure is the one to report
        }
      }
    }
  }

  static String quote(String text) {
    if (text == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  static String jsonList(List<String> items) {
    StringJoiner out = new StringJoiner(",", "[", "]");
    items.forEach(item -> out.add(quote(item)));
    return out.toString();
  }

  public static void main(String[] args) throws Exception {
    String address = System.getenv().getOrDefault("FACADE_ADDR", "127.0.0.1:50051");
    String tokenFile = System.getenv("FACADE_TOKEN_FILE");
    long deadlineMs = 10_000;
    boolean withOac = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--addr" -> address = args[++i];
        case "--token-file" -> tokenFile = args[++i];
        case "--deadline-ms" -> deadlineMs = Long.parseLong(args[++i]);
        case "--oac" -> withOac = true;
        default -> {
          System.err.println("usage: Lifecycle [--addr HOST:PORT] [--token-file FILE] "
              + "[--deadline-ms N] [--oac]");
          System.exit(2);
        }
      }
    }
    String token = tokenFile == null || tokenFile.isEmpty() ? null
        : Files.readString(Path.of(tokenFile), StandardCharsets.UTF_8).strip();
    // Plaintext over TCP. Netty's unix-socket transport needs its native epoll library, which
    // Debian's libnetty-java does not ship.
    ManagedChannel channel = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
    Lifecycle lifecycle = new Lifecycle(channel, token, deadlineMs);
    String error = null;
    String code = null;
    try {
      lifecycle.oaiLifecycle();
      if (withOac) {
        lifecycle.oacLifecycle();
      }
    } catch (Unexpected failure) {
      error = failure.getMessage();
    } catch (StatusRuntimeException failure) {
      error = failure.getMessage();
      code = failure.getStatus().getCode().name();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    StringBuilder summary = new StringBuilder("{\"ok\":").append(error == null)
        .append(",\"address\":").append(quote(address))
        .append(",\"steps\":").append(jsonList(lifecycle.steps));
    if (lifecycle.notFound != null) {
      summary.append(",\"notFound\":").append(lifecycle.notFound.json());
    }
    if (lifecycle.aborted != null) {
      summary.append(",\"aborted\":").append(lifecycle.aborted.json());
    }
    if (withOac) {
      summary.append(",\"oacSteps\":").append(jsonList(lifecycle.oacSteps));
    }
    if (lifecycle.oacNotFound != null) {
      summary.append(",\"oacNotFound\":").append(lifecycle.oacNotFound.json());
    }
    if (lifecycle.oacAlreadyExists != null) {
      summary.append(",\"oacAlreadyExists\":").append(lifecycle.oacAlreadyExists.json());
    }
    if (error != null) {
      summary.append(",\"error\":").append(quote(error));
    }
    if (code != null) {
      summary.append(",\"code\":").append(quote(code));
    }
    System.out.println(summary.append('}'));
    System.exit(error == null ? 0 : 1);
  }
}
