package secrets

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/localhttp"
)

const (
	testPrefix = "crmbackup/prod/hubspot/"
	testARN    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:crmbackup/prod/hubspot/acc-1-AbCdEf"
	// testValue is the credential every test sends; no error may show it.
	testValue = "pat-eu1-00000000-very-secret-token"
)

// smRequest is one request the fake received: its operation (the part of
// X-Amz-Target after "secretsmanager.") and its JSON body.
type smRequest struct {
	Op   string
	Body map[string]any
}

// smReply is the fake's answer to an operation: a JSON body with status
// 200, or an AWS JSON 1.1 error.
type smReply struct {
	Status  int // 0 is 200
	Body    any
	ErrType string
	ErrMsg  string
}

// smFake speaks Secrets Manager's AWS JSON 1.1 protocol, records what it
// gets and answers from replies (an empty 200 by default).
type smFake struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []smRequest
	replies map[string]smReply
}

func newSMFake(t *testing.T, replies map[string]smReply) (*smFake, *secretsmanager.Client) {
	t.Helper()
	f := &smFake{t: t, replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := secretsmanager.New(secretsmanager.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       localhttp.Client(),
	})
	return f, client
}

func (f *smFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "secretsmanager.")
	if r.Method != http.MethodPost || !ok {
		f.t.Errorf("request %s %s with X-Amz-Target %q, want POST secretsmanager.*", r.Method, r.URL, target)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		f.t.Errorf("%s: Content-Type %q, want application/x-amz-json-1.1", op, ct)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKID/") {
		f.t.Errorf("%s: not signed with the static credentials: %q", op, r.Header.Get("Authorization"))
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("%s: body: %v", op, err)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, smRequest{Op: op, Body: body})
	reply := f.replies[op]
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "req-1")
	if reply.ErrType != "" {
		status := reply.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": reply.ErrType, "message": reply.ErrMsg})
		return
	}
	if reply.Body == nil {
		reply.Body = map[string]any{}
	}
	json.NewEncoder(w).Encode(reply.Body)
}

// requests returns what the fake received, without the idempotency
// token the SDK makes up (CreateSecret, PutSecretValue).
func (f *smFake) requests() []smRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]smRequest, len(f.reqs))
	for i, r := range f.reqs {
		if tok, ok := r.Body["ClientRequestToken"]; ok {
			if s, _ := tok.(string); s == "" {
				f.t.Errorf("%s: ClientRequestToken %v", r.Op, tok)
			}
			delete(r.Body, "ClientRequestToken")
		}
		out[i] = r
	}
	return out
}

// checkOne checks that the fake received exactly want.
func (f *smFake) checkOne(t *testing.T, want smRequest) {
	t.Helper()
	got := f.requests()
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("requests\n got %#v\nwant [%#v]", got, want)
	}
}

// checkNoValue fails if err shows the credential.
func checkNoValue(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testValue) {
		t.Errorf("error shows the secret value: %v", err)
	}
}

func TestManagerCreateSecret(t *testing.T) {
	name := testPrefix + "acc-1"
	wantReq := smRequest{Op: "CreateSecret", Body: map[string]any{
		"Name":         name,
		"Description":  "HubSpot credential of crmbackup account acc-1",
		"SecretString": testValue,
		"Tags":         []any{map[string]any{"Key": "crmbackup:account", "Value": "acc-1"}},
	}}
	tests := []struct {
		name     string
		reply    smReply
		wantARN  string
		wantCode string   // "" for no error
		wantMsg  []string // in the error's message
	}{{
		name:    "created",
		reply:   smReply{Body: map[string]any{"ARN": testARN, "Name": name, "VersionId": "v1"}},
		wantARN: testARN,
	}, {
		name:     "exists",
		reply:    smReply{ErrType: "ResourceExistsException", ErrMsg: "The operation failed because the secret " + name + " already exists."},
		wantCode: apperr.Conflict,
		wantMsg:  []string{name, "exists already", "restore-secret"},
	}, {
		name:     "exists, qualified type",
		reply:    smReply{ErrType: "com.amazonaws.secretsmanager#ResourceExistsException", ErrMsg: "already exists"},
		wantCode: apperr.Conflict,
		wantMsg:  []string{name, "restore-secret"},
	}, {
		name:     "scheduled for deletion",
		reply:    smReply{ErrType: "InvalidRequestException", ErrMsg: "You can't create this secret because a secret with this name is already scheduled for deletion."},
		wantCode: apperr.Conflict,
		wantMsg:  []string{"scheduled for deletion", "aws secretsmanager restore-secret --secret-id " + name},
	}, {
		name:     "other invalid request",
		reply:    smReply{ErrType: "InvalidRequestException", ErrMsg: "The parameter Name is not valid."},
		wantCode: apperr.Internal,
		wantMsg:  []string{"create secret " + name},
	}, {
		name:     "access denied",
		reply:    smReply{ErrType: "AccessDeniedException", ErrMsg: "not authorized to perform secretsmanager:CreateSecret"},
		wantCode: apperr.Internal,
		wantMsg:  []string{"create secret " + name, "AccessDeniedException"},
	}, {
		name:     "service error",
		reply:    smReply{Status: http.StatusInternalServerError, ErrType: "InternalServiceError", ErrMsg: "boom"},
		wantCode: apperr.Internal,
		wantMsg:  []string{"create secret " + name},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newSMFake(t, map[string]smReply{"CreateSecret": tt.reply})
			m := Manager{Client: client, Prefix: testPrefix}
			arn, err := m.CreateSecret(context.Background(), "acc-1", testValue)
			fake.checkOne(t, wantReq)
			checkNoValue(t, err)
			if tt.wantCode == "" {
				if err != nil || arn != tt.wantARN {
					t.Fatalf("CreateSecret = %q, %v, want %q", arn, err, tt.wantARN)
				}
				return
			}
			if err == nil || apperr.Code(err) != tt.wantCode || arn != "" {
				t.Fatalf("CreateSecret = %q, %v, want code %s", arn, err, tt.wantCode)
			}
			for _, s := range tt.wantMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestManagerCreateSecretRefused(t *testing.T) {
	tests := []struct {
		name      string
		prefix    string
		accountID string
		wantCode  string
	}{
		{"no prefix", "", "acc-1", apperr.Internal},
		{"space", testPrefix, "acc 1", apperr.Invalid},
		{"star", testPrefix, "acc*1", apperr.Invalid},
		{"colon", testPrefix, "acc:1", apperr.Invalid},
		{"newline", testPrefix, "acc-1\n", apperr.Invalid},
		{"non-ascii", testPrefix, "accé", apperr.Invalid},
		{"bad prefix", "crm backup/", "acc-1", apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newSMFake(t, nil)
			m := Manager{Client: client, Prefix: tt.prefix}
			arn, err := m.CreateSecret(context.Background(), tt.accountID, testValue)
			if err == nil || apperr.Code(err) != tt.wantCode || arn != "" {
				t.Errorf("CreateSecret = %q, %v, want code %s", arn, err, tt.wantCode)
			}
			checkNoValue(t, err)
			if got := fake.requests(); len(got) != 0 {
				t.Errorf("sent %v, want no request", got)
			}
		})
	}
}

func TestManagerPutSecret(t *testing.T) {
	wantReq := smRequest{Op: "PutSecretValue", Body: map[string]any{"SecretId": testARN, "SecretString": testValue}}
	tests := []struct {
		name    string
		reply   smReply
		wantErr bool
	}{
		{"stored", smReply{Body: map[string]any{"ARN": testARN, "VersionId": "v2", "VersionStages": []string{"AWSCURRENT"}}}, false},
		{"missing", smReply{ErrType: "ResourceNotFoundException", ErrMsg: "Secrets Manager can't find the specified secret."}, true},
		{"scheduled for deletion", smReply{ErrType: "InvalidRequestException", ErrMsg: "You can't perform this operation on the secret because it was marked for deletion."}, true},
		{"service error", smReply{Status: http.StatusInternalServerError, ErrType: "InternalServiceError", ErrMsg: "boom"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newSMFake(t, map[string]smReply{"PutSecretValue": tt.reply})
			err := Manager{Client: client, Prefix: testPrefix}.PutSecret(context.Background(), testARN, testValue)
			fake.checkOne(t, wantReq)
			checkNoValue(t, err)
			if (err != nil) != tt.wantErr {
				t.Fatalf("PutSecret = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "put secret "+testARN) {
				t.Errorf("error %q does not name the secret", err)
			}
		})
	}
}

func TestManagerDeleteSecret(t *testing.T) {
	tests := []struct {
		name     string
		days     int64
		reply    smReply
		wantDays float64
		wantErr  bool
	}{
		{"default window", 0, smReply{Body: map[string]any{"ARN": testARN, "DeletionDate": 1.7e9}}, 7, false},
		{"own window", 30, smReply{Body: map[string]any{"ARN": testARN}}, 30, false},
		{"missing", 0, smReply{ErrType: "ResourceNotFoundException", ErrMsg: "Secrets Manager can't find the specified secret."}, 7, false},
		{"already scheduled", 0, smReply{ErrType: "InvalidRequestException", ErrMsg: "You can't perform this operation on the secret because it was marked for deletion."}, 7, true},
		{"access denied", 14, smReply{ErrType: "AccessDeniedException", ErrMsg: "denied"}, 14, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newSMFake(t, map[string]smReply{"DeleteSecret": tt.reply})
			m := Manager{Client: client, Prefix: testPrefix, RecoveryDays: tt.days}
			err := m.DeleteSecret(context.Background(), testARN)
			fake.checkOne(t, smRequest{Op: "DeleteSecret", Body: map[string]any{"SecretId": testARN, "RecoveryWindowInDays": tt.wantDays}})
			if (err != nil) != tt.wantErr {
				t.Fatalf("DeleteSecret = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "delete secret "+testARN) {
				t.Errorf("error %q does not name the secret", err)
			}
		})
	}
}

func TestManagerSecretString(t *testing.T) {
	tests := []struct {
		name    string
		reply   smReply
		want    string
		wantErr bool
	}{
		{"value", smReply{Body: map[string]any{"ARN": testARN, "Name": testPrefix + "acc-1", "SecretString": testValue, "VersionId": "v1"}}, testValue, false},
		{"binary only", smReply{Body: map[string]any{"ARN": testARN, "SecretBinary": "AAEC"}}, "", false},
		{"missing", smReply{ErrType: "ResourceNotFoundException", ErrMsg: "Secrets Manager can't find the specified secret."}, "", true},
		{"cannot decrypt", smReply{ErrType: "DecryptionFailure", ErrMsg: "Secrets Manager can't decrypt the protected secret text using the provided KMS key."}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newSMFake(t, map[string]smReply{"GetSecretValue": tt.reply})
			got, err := Manager{Client: client, Prefix: testPrefix}.SecretString(context.Background(), testARN)
			fake.checkOne(t, smRequest{Op: "GetSecretValue", Body: map[string]any{"SecretId": testARN}})
			checkNoValue(t, err)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("SecretString = %q, %v, want %q, error %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "secret "+testARN) {
				t.Errorf("error %q does not name the secret", err)
			}
		})
	}
}
