// Command lifecycle runs the whole origin access identity lifecycle against a cloudfront-facade:
// create -> get -> get config -> update (with the ETag) -> update with the stale ETag (ABORTED)
// -> list -> delete -> get (NOT_FOUND), and prints the google.rpc.ErrorInfo of the two failed
// calls. With -oac it then runs the same six RPCs of cloudfront.v1.OriginAccessControlService,
// and a second create of the same name, reading the name from the ALREADY_EXISTS ErrorInfo.
//
//	./lifecycle -addr 127.0.0.1:50051
//	./lifecycle -addr unix:/run/cloudfront-facade/facade.sock -oac
//
// Built with Debian bookworm's grpc-go 1.33.3 and google.golang.org/protobuf 1.28.1 (see
// build.sh). Exits 0 when every step went as expected, 1 otherwise; the last line printed is a
// JSON summary either way.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cloudfrontv1 "cloudfrontfacade.example/gen/cloudfront/v1"
)

// ErrorReport is what a failed call told the caller: its code and its ErrorInfo.
type ErrorReport struct {
	Code     string            `json:"code"`
	Message  string            `json:"message"`
	Reason   string            `json:"reason"`
	Domain   string            `json:"domain"`
	Metadata map[string]string `json:"metadata"`
}

// Summary is the JSON line printed last.
type Summary struct {
	OK        bool         `json:"ok"`
	Address   string       `json:"address"`
	Steps     []string     `json:"steps"`
	NotFound  *ErrorReport `json:"notFound,omitempty"`
	Aborted   *ErrorReport `json:"aborted,omitempty"`
	OacSteps  []string     `json:"oacSteps,omitempty"`
	OacAbsent *ErrorReport `json:"oacNotFound,omitempty"`
	OacTaken  *ErrorReport `json:"oacAlreadyExists,omitempty"`
	Error     string       `json:"error,omitempty"`
	Code      string       `json:"code,omitempty"`
}

var (
	addr      = flag.String("addr", envOr("FACADE_ADDR", "127.0.0.1:50051"), "facade address: HOST:PORT or unix:/path")
	tokenFile = flag.String("token-file", os.Getenv("FACADE_TOKEN_FILE"), "file holding the bearer token, if the facade requires one")
	deadline  = flag.Duration("deadline", 10*time.Second, "deadline of each call")
	withOAC   = flag.Bool("oac", false, "also run the origin access control lifecycle")
)

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

// codeName spells a code as the gRPC spec does (NOT_FOUND); grpc-go's String() says NotFound.
func codeName(code codes.Code) string {
	var name []rune
	previous := 'A'
	for _, r := range code.String() {
		if r >= 'A' && r <= 'Z' && previous >= 'a' && previous <= 'z' {
			name = append(name, '_')
		}
		name = append(name, r)
		previous = r
	}
	return strings.ToUpper(string(name))
}

// errorReport reads the status and its google.rpc.ErrorInfo with the standard grpc-go API.
func errorReport(err error) *ErrorReport {
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	report := &ErrorReport{Code: codeName(st.Code()), Message: st.Message()}
	for _, detail := range st.Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok {
			report.Reason, report.Domain, report.Metadata = info.Reason, info.Domain, info.Metadata
		}
	}
	return report
}

// expectFailure checks that err is a status with the given code and an ErrorInfo.
func expectFailure(err error, code codes.Code, what string) (*ErrorReport, error) {
	if err == nil {
		return nil, fmt.Errorf("%s succeeded; expected %s", what, codeName(code))
	}
	if st, _ := status.FromError(err); st.Code() != code {
		return nil, fmt.Errorf("%s failed with %s, not %s: %s", what, codeName(st.Code()),
			codeName(code), st.Message())
	}
	report := errorReport(err)
	if report.Reason == "" {
		return nil, fmt.Errorf("the %s error carried no google.rpc.ErrorInfo", codeName(code))
	}
	fmt.Printf("%-11s code=%s reason=%s domain=%s\n", what, report.Code, report.Reason, report.Domain)
	return report, nil
}

type caller struct {
	token string
}

// ctx is the context of one call: its deadline and, when needed, the bearer token.
func (c caller) ctx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	if c.token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
	}
	return ctx, cancel
}

func oaiLifecycle(c caller, client cloudfrontv1.OriginAccessIdentityServiceClient, summary *Summary) error {
	ref := fmt.Sprintf("go-example-%d-%d", time.Now().UnixNano(), os.Getpid())
	ctx, cancel := c.ctx()
	defer cancel()

	created, err := client.CreateCloudFrontOriginAccessIdentity(ctx, &cloudfrontv1.CreateCloudFrontOriginAccessIdentityRequest{
		CloudFrontOriginAccessIdentityConfig: &cloudfrontv1.CloudFrontOriginAccessIdentityConfig{
			CallerReference: ref, Comment: "created by examples/go",
		},
	})
	if err != nil {
		return err
	}
	id, etag := created.GetCloudFrontOriginAccessIdentity().GetId(), created.GetEtag()
	if id == "" || etag == "" {
		return errors.New("create returned no id or no ETag")
	}
	deleted := false
	defer func() {
		// Best effort: never leave an identity behind in a real account after a failed step.
		if !deleted {
			ctx, cancel := c.ctx()
			defer cancel()
			client.DeleteCloudFrontOriginAccessIdentity(ctx, &cloudfrontv1.DeleteCloudFrontOriginAccessIdentityRequest{Id: id, IfMatch: etag})
		}
	}()
	fmt.Printf("%-11s id=%s etag=%s\n", "create", id, etag)
	summary.Steps = append(summary.Steps, "create")

	got, err := client.GetCloudFrontOriginAccessIdentity(ctx, &cloudfrontv1.GetCloudFrontOriginAccessIdentityRequest{Id: id})
	if err != nil {
		return err
	}
	if got.GetCloudFrontOriginAccessIdentity().GetId() != id || got.GetEtag() != etag {
		return errors.New("get returned another id or ETag than create")
	}
	fmt.Printf("%-11s id=%s etag=%s\n", "get", id, got.GetEtag())
	summary.Steps = append(summary.Steps, "get")

	config, err := client.GetCloudFrontOriginAccessIdentityConfig(ctx, &cloudfrontv1.GetCloudFrontOriginAccessIdentityConfigRequest{Id: id})
	if err != nil {
		return err
	}
	if config.GetCloudFrontOriginAccessIdentityConfig().GetCallerReference() != ref {
		return errors.New("get-config lost the caller reference")
	}
	fmt.Printf("%-11s comment=%q etag=%s\n", "get-config", config.GetCloudFrontOriginAccessIdentityConfig().GetComment(), config.GetEtag())
	summary.Steps = append(summary.Steps, "get-config")

	update := &cloudfrontv1.UpdateCloudFrontOriginAccessIdentityRequest{
		Id: id, IfMatch: config.GetEtag(),
		CloudFrontOriginAccessIdentityConfig: &cloudfrontv1.CloudFrontOriginAccessIdentityConfig{
			CallerReference: ref, Comment: "updated by examples/go",
		},
	}
	updated, err := client.UpdateCloudFrontOriginAccessIdentity(ctx, update)
	if err != nil {
		return err
	}
	stale := etag
	etag = updated.GetEtag()
	if updated.GetCloudFrontOriginAccessIdentity().GetCloudFrontOriginAccessIdentityConfig().GetComment() != "updated by examples/go" {
		return errors.New("update did not store the comment")
	}
	if etag == "" || etag == stale {
		return errors.New("update kept the old ETag")
	}
	fmt.Printf("%-11s etag=%s\n", "update", etag)
	summary.Steps = append(summary.Steps, "update")

	// The same update with the ETag read before it: someone else changed the identity since.
	update.IfMatch = stale
	_, err = client.UpdateCloudFrontOriginAccessIdentity(ctx, update)
	if summary.Aborted, err = expectFailure(err, codes.Aborted, "update-stale"); err != nil {
		return err
	}
	summary.Steps = append(summary.Steps, "update-stale")

	found := false
	for marker, page := "", 0; page < 100 && !found; page++ {
		listed, err := client.ListCloudFrontOriginAccessIdentities(ctx, &cloudfrontv1.ListCloudFrontOriginAccessIdentitiesRequest{Marker: marker, MaxItems: 100})
		if err != nil {
			return err
		}
		list := listed.GetCloudFrontOriginAccessIdentityList()
		for _, item := range list.GetItems() {
			if item.GetId() == id && item.GetComment() == "updated by examples/go" {
				found = true
			}
		}
		if !list.GetIsTruncated() {
			break
		}
		marker = list.GetNextMarker()
	}
	if !found {
		return errors.New("list did not contain the updated identity")
	}
	fmt.Printf("%-11s found=%s\n", "list", id)
	summary.Steps = append(summary.Steps, "list")

	if _, err := client.DeleteCloudFrontOriginAccessIdentity(ctx, &cloudfrontv1.DeleteCloudFrontOriginAccessIdentityRequest{Id: id, IfMatch: etag}); err != nil {
		return err
	}
	deleted = true
	fmt.Printf("%-11s id=%s\n", "delete", id)
	summary.Steps = append(summary.Steps, "delete")

	_, err = client.GetCloudFrontOriginAccessIdentity(ctx, &cloudfrontv1.GetCloudFrontOriginAccessIdentityRequest{Id: id})
	if summary.NotFound, err = expectFailure(err, codes.NotFound, "get-deleted"); err != nil {
		return err
	}
	summary.Steps = append(summary.Steps, "get-deleted")
	return nil
}

func oacConfig(name, description string) *cloudfrontv1.OriginAccessControlConfig {
	return &cloudfrontv1.OriginAccessControlConfig{
		Name:                          name,
		Description:                   description,
		SigningProtocol:               cloudfrontv1.OriginAccessControlSigningProtocols_ORIGIN_ACCESS_CONTROL_SIGNING_PROTOCOLS_SIGV4,
		SigningBehavior:               cloudfrontv1.OriginAccessControlSigningBehaviors_ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS,
		OriginAccessControlOriginType: cloudfrontv1.OriginAccessControlOriginTypes_ORIGIN_ACCESS_CONTROL_ORIGIN_TYPES_S3,
	}
}

func oacLifecycle(c caller, client cloudfrontv1.OriginAccessControlServiceClient, summary *Summary) error {
	name := fmt.Sprintf("go-example-%d-%d", time.Now().UnixNano(), os.Getpid())
	ctx, cancel := c.ctx()
	defer cancel()

	created, err := client.CreateOriginAccessControl(ctx, &cloudfrontv1.CreateOriginAccessControlRequest{
		OriginAccessControlConfig: oacConfig(name, "created by examples/go"),
	})
	if err != nil {
		return err
	}
	id, etag := created.GetOriginAccessControl().GetId(), created.GetEtag()
	if id == "" || etag == "" {
		return errors.New("OAC create returned no id or no ETag")
	}
	deleted := false
	defer func() {
		if !deleted {
			ctx, cancel := c.ctx()
			defer cancel()
			client.DeleteOriginAccessControl(ctx, &cloudfrontv1.DeleteOriginAccessControlRequest{Id: id, IfMatch: etag})
		}
	}()
	fmt.Printf("%-11s id=%s etag=%s\n", "oac-create", id, etag)
	summary.OacSteps = append(summary.OacSteps, "create")

	got, err := client.GetOriginAccessControl(ctx, &cloudfrontv1.GetOriginAccessControlRequest{Id: id})
	if err != nil {
		return err
	}
	if got.GetOriginAccessControl().GetOriginAccessControlConfig().GetName() != name || got.GetEtag() != etag {
		return errors.New("OAC get returned another name or ETag than create")
	}
	summary.OacSteps = append(summary.OacSteps, "get")

	config, err := client.GetOriginAccessControlConfig(ctx, &cloudfrontv1.GetOriginAccessControlConfigRequest{Id: id})
	if err != nil {
		return err
	}
	behavior := config.GetOriginAccessControlConfig().GetSigningBehavior()
	if behavior != cloudfrontv1.OriginAccessControlSigningBehaviors_ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_ALWAYS {
		return fmt.Errorf("OAC get-config returned signing behavior %s", behavior)
	}
	summary.OacSteps = append(summary.OacSteps, "get-config")

	changed := oacConfig(name, "updated by examples/go")
	changed.SigningBehavior = cloudfrontv1.OriginAccessControlSigningBehaviors_ORIGIN_ACCESS_CONTROL_SIGNING_BEHAVIORS_NO_OVERRIDE
	updated, err := client.UpdateOriginAccessControl(ctx, &cloudfrontv1.UpdateOriginAccessControlRequest{
		Id: id, IfMatch: config.GetEtag(), OriginAccessControlConfig: changed,
	})
	if err != nil {
		return err
	}
	if updated.GetEtag() == "" || updated.GetEtag() == etag {
		return errors.New("OAC update kept the old ETag")
	}
	etag = updated.GetEtag()
	fmt.Printf("%-11s etag=%s behavior=%s\n", "oac-update", etag, updated.GetOriginAccessControl().GetOriginAccessControlConfig().GetSigningBehavior())
	summary.OacSteps = append(summary.OacSteps, "update")

	found := false
	for marker, page := "", 0; page < 100 && !found; page++ {
		listed, err := client.ListOriginAccessControls(ctx, &cloudfrontv1.ListOriginAccessControlsRequest{Marker: marker, MaxItems: 100})
		if err != nil {
			return err
		}
		list := listed.GetOriginAccessControlList()
		for _, item := range list.GetItems() {
			if item.GetId() == id && item.GetName() == name &&
				item.GetSigningBehavior() == changed.SigningBehavior {
				found = true
			}
		}
		if !list.GetIsTruncated() {
			break
		}
		marker = list.GetNextMarker()
	}
	if !found {
		return errors.New("OAC list did not contain the updated control")
	}
	summary.OacSteps = append(summary.OacSteps, "list")

	// A second control of the same name is ALREADY_EXISTS, and its ErrorInfo names the name: how
	// a caller whose first create lost its answer finds what it made (list, match the name).
	_, err = client.CreateOriginAccessControl(ctx, &cloudfrontv1.CreateOriginAccessControlRequest{
		OriginAccessControlConfig: oacConfig(name, "a second one"),
	})
	if summary.OacTaken, err = expectFailure(err, codes.AlreadyExists, "oac-create-again"); err != nil {
		return err
	}
	if summary.OacTaken.Metadata["name"] != name {
		return errors.New("the OAC ALREADY_EXISTS ErrorInfo does not carry the name")
	}

	if _, err := client.DeleteOriginAccessControl(ctx, &cloudfrontv1.DeleteOriginAccessControlRequest{Id: id, IfMatch: etag}); err != nil {
		return err
	}
	deleted = true
	summary.OacSteps = append(summary.OacSteps, "delete")

	_, err = client.GetOriginAccessControl(ctx, &cloudfrontv1.GetOriginAccessControlRequest{Id: id})
	if summary.OacAbsent, err = expectFailure(err, codes.NotFound, "oac-get"); err != nil {
		return err
	}
	summary.OacSteps = append(summary.OacSteps, "get-deleted")
	return nil
}

func run(summary *Summary) error {
	c := caller{}
	if *tokenFile != "" {
		raw, err := ioutil.ReadFile(*tokenFile)
		if err != nil {
			return err
		}
		c.token = strings.TrimSpace(string(raw))
	}
	// grpc-go 1.33 predates credentials/insecure; WithInsecure is its plaintext option.
	// "unix:/path" targets are dialled as unix sockets.
	conn, err := grpc.Dial(*addr, grpc.WithInsecure())
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := oaiLifecycle(c, cloudfrontv1.NewOriginAccessIdentityServiceClient(conn), summary); err != nil {
		return err
	}
	if *withOAC {
		return oacLifecycle(c, cloudfrontv1.NewOriginAccessControlServiceClient(conn), summary)
	}
	return nil
}

func main() {
	flag.Parse()
	summary := &Summary{Address: *addr, Steps: []string{}}
	err := run(summary)
	summary.OK = err == nil
	if err != nil {
		summary.Error = err.Error()
		if report := errorReport(err); report != nil {
			summary.Code = report.Code
		}
	}
	line, _ := json.Marshal(summary)
	fmt.Println(string(line))
	if err != nil {
		os.Exit(1)
	}
}
