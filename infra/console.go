package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/crmbackup/crmbackup/internal/api"
	"github.com/crmbackup/crmbackup/internal/awswire/env"
)

// Console is the admin console on AWS: its built files in a private
// bucket, served only through CloudFront (origin access control), over
// HTTPS, with the same strict headers the local stack sends. The same
// distribution passes /v1/* on to the HTTP API (AddAPI), so that the
// console calls its API at its own origin: no CORS, and a connect-src of
// 'self' and the managed login's token endpoint.
type Console struct {
	Bucket       awss3.Bucket
	Distribution awscloudfront.Distribution
	// OriginSecret is the value the distribution sends the API in
	// api.OriginHeader (AddAPI): the API trusts CloudFront's viewer address
	// only on a request that has it.
	OriginSecret awssecretsmanager.Secret
	headers      awscloudfront.ResponseHeadersPolicy
	scope        constructs.Construct
	// URL is https://<distribution domain> (the managed login's callback,
	// and the API's base URL for the console).
	URL *string
}

// loginDomainPrefix is the stack's managed login domain prefix: its host is
// <prefix>.auth.<region>.amazoncognito.com. The console's CSP names that
// host (and no other of Cognito's), so it is built from the same value.
func loginDomainPrefix(p *Props) *string {
	return awscdk.Fn_Join(jsii.String("-"), &[]*string{jsii.String("crmbackup"), jsii.String(p.Stage), awscdk.Aws_ACCOUNT_ID()})
}

// consoleCSP is the console's content security policy on AWS: its own
// files and its own origin for the API (/v1/* through the distribution);
// with the stack's Cognito pool, also the managed login's host, whose
// token endpoint the page calls to trade the sign-in's code for tokens (the
// login pages themselves are navigations, which connect-src does not
// govern).
func consoleCSP(p *Props) *string {
	connect := []*string{jsii.String("connect-src 'self'")}
	if p.JWTIssuer == "" {
		connect = append(connect, jsii.String(" https://"), loginDomainPrefix(p), jsii.String(".auth."), awscdk.Aws_REGION(), jsii.String(".amazoncognito.com"))
	}
	parts := append([]*string{jsii.String("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; ")}, connect...)
	parts = append(parts, jsii.String("; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"))
	return awscdk.Fn_Join(jsii.String(""), &parts)
}

// NewConsole builds the bucket and the distribution.
func NewConsole(scope constructs.Construct, p *Props, logs awss3.IBucket) *Console {
	c := constructs.NewConstruct(scope, jsii.String("Console"))
	bucket := awss3.NewBucket(c, jsii.String("Files"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		Encryption:             awss3.BucketEncryption_S3_MANAGED, // public code, no data: OAC reads it without a key grant
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("console-bucket/"),
		RemovalPolicy:          awscdk.RemovalPolicy_DESTROY,
		AutoDeleteObjects:      jsii.Bool(false),
	})
	headers := awscloudfront.NewResponseHeadersPolicy(c, jsii.String("Headers"), &awscloudfront.ResponseHeadersPolicyProps{
		ResponseHeadersPolicyName: jsii.String("crmbackup-" + p.Stage + "-console"),
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{ContentSecurityPolicy: consoleCSP(p), Override: jsii.Bool(true)},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(730)), IncludeSubdomains: jsii.Bool(true), Preload: jsii.Bool(true), Override: jsii.Bool(true)},
			ContentTypeOptions: &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
			FrameOptions:       &awscloudfront.ResponseHeadersFrameOptions{FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: jsii.Bool(true)},
			ReferrerPolicy:     &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_NO_REFERRER, Override: jsii.Bool(true)},
		},
		CustomHeadersBehavior: &awscloudfront.ResponseCustomHeadersBehavior{CustomHeaders: &[]*awscloudfront.ResponseCustomHeader{
			{Header: jsii.String("Cross-Origin-Opener-Policy"), Value: jsii.String("same-origin"), Override: jsii.Bool(true)},
		}},
	})
	dist := awscloudfront.NewDistribution(c, jsii.String("Distribution"), &awscloudfront.DistributionProps{
		Comment:           jsii.String("crmbackup " + p.Stage + " admin console"),
		DefaultRootObject: jsii.String("index.html"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, nil),
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
			ResponseHeadersPolicy: headers,
			CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
		},
		HttpVersion: awscloudfront.HttpVersion_HTTP2_AND_3,
	})
	return &Console{Bucket: bucket, Distribution: dist, headers: headers, scope: c,
		URL: awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), dist.DistributionDomainName()})}
}

// AddAPI passes the console's API calls (/v1/*) on to the HTTP API, a
// second origin: every method, nothing cached, and every header of the
// request but Host (API Gateway answers to its own name) — the
// Authorization header included, which CloudFront forwards with caching
// disabled and an all-viewer origin request policy — and CloudFront's own
// headers, CloudFront-Viewer-Address among them (the managed
// AllViewerExceptHostHeader policy includes them). The API's own URL
// stays as it is for the CLI.
//
// So that the API can tell the distribution's requests from a direct
// caller's (who could send any CloudFront-Viewer-Address), the origin adds
// a secret header: a value Secrets Manager generates at deployment, which
// CloudFormation resolves into the origin's configuration (a dynamic
// reference: the template holds the secret's ARN, never its value) and
// the api function (fn) reads at cold start, with GetSecretValue on this
// secret only.
func (c *Console) AddAPI(httpAPI awsapigatewayv2.HttpApi, fn *Function) {
	c.OriginSecret = awssecretsmanager.NewSecret(c.scope, jsii.String("OriginSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String("crmbackup: the value the console's CloudFront distribution sends the HTTP API in " + api.OriginHeader),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength: jsii.Number(64), ExcludePunctuation: jsii.Bool(true), IncludeSpace: jsii.Bool(false),
		},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY, // a new stack makes its own
	})
	host := awscdk.Fn_Join(jsii.String(""), &[]*string{httpAPI.ApiId(), jsii.String(".execute-api."), awscdk.Aws_REGION(), jsii.String("."), awscdk.Aws_URL_SUFFIX()})
	c.Distribution.AddBehavior(jsii.String("/v1/*"), awscloudfrontorigins.NewHttpOrigin(host, &awscloudfrontorigins.HttpOriginProps{
		ProtocolPolicy:     awscloudfront.OriginProtocolPolicy_HTTPS_ONLY,
		OriginSslProtocols: &[]awscloudfront.OriginSslPolicy{awscloudfront.OriginSslPolicy_TLS_V1_2},
		// {{resolve:secretsmanager:<arn>:SecretString:::}}
		CustomHeaders: &map[string]*string{api.OriginHeader: c.OriginSecret.SecretValue().UnsafeUnwrap()},
	}), &awscloudfront.AddBehaviorOptions{
		AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_ALL(),
		CachePolicy:           awscloudfront.CachePolicy_CACHING_DISABLED(),
		OriginRequestPolicy:   awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
		ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
		ResponseHeadersPolicy: c.headers,
	})
	fn.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("secretsmanager:GetSecretValue"), Resources: &[]*string{c.OriginSecret.SecretArn()},
	}))
	fn.Fn.AddEnvironment(jsii.String(env.OriginSecret), c.OriginSecret.SecretArn(), nil)
}

// Deploy puts the built console (dir) and its config.json into the bucket:
// where the API is and how to sign in.
func (c *Console) Deploy(scope constructs.Construct, dir string, config map[string]any) {
	awss3deployment.NewBucketDeployment(scope, jsii.String("ConsoleFiles"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket: c.Bucket,
		Sources: &[]awss3deployment.ISource{
			awss3deployment.Source_Asset(jsii.String(dir), nil),
			awss3deployment.Source_JsonData(jsii.String("config.json"), config, nil),
		},
		Distribution:      c.Distribution,
		DistributionPaths: jsii.Strings("/*"),
		Prune:             jsii.Bool(true),
		// The file names carry no hash: browsers check back on every load.
		CacheControl: &[]awss3deployment.CacheControl{awss3deployment.CacheControl_NoCache()},
		// The files go with the stack: its bucket can then be deleted.
		RetainOnDelete: jsii.Bool(false),
	})
}
