package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Console is the admin console on AWS: its built files in a private
// bucket, served only through CloudFront (origin access control), over
// HTTPS, with the same strict headers the local stack sends.
type Console struct {
	Bucket       awss3.Bucket
	Distribution awscloudfront.Distribution
	// URL is https://<distribution domain> (the managed login's callback,
	// the API's one CORS origin).
	URL *string
}

// consoleCSP is the console's content security policy on AWS: its own
// files, the region's API Gateway and Cognito endpoints for its calls (a
// wildcard of the region: naming this stack's API would make the
// distribution depend on the API, which depends on it for CORS).
func consoleCSP() *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' https://*.execute-api."),
		awscdk.Aws_REGION(), jsii.String(".amazonaws.com https://*.auth."), awscdk.Aws_REGION(),
		jsii.String(".amazoncognito.com; base-uri 'none'; form-action 'self' https://*.auth."), awscdk.Aws_REGION(),
		jsii.String(".amazoncognito.com; frame-ancestors 'none'"),
	})
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
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{ContentSecurityPolicy: consoleCSP(), Override: jsii.Bool(true)},
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
	return &Console{Bucket: bucket, Distribution: dist, URL: awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), dist.DistributionDomainName()})}
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
