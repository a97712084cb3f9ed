package deploy

import (
	"fmt"
	"io"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Monthly (730 h) on-demand prices in us-east-1, USD, as published by AWS in 2024–2025.
// They are for a rough order of magnitude before apply; other regions cost 5–30 % more.
const (
	hoursPerMonth    = 730
	priceEBSRoot     = 0.8                   // ~10 GB gp2/gp3 root volume per server
	pricePublicIPv4  = 0.005 * hoursPerMonth // every server and each ALB node has one
	priceALB         = 0.0225*hoursPerMonth + 0.008*hoursPerMonth
	priceRDSMicro    = 0.018*hoursPerMonth + 10*0.115 // db.t3.micro PostgreSQL, single-AZ, 10 GB gp2
	priceShard       = 0.015 * hoursPerMonth          // Kinesis provisioned shard-hour
	priceOnDemand    = 0.04 * hoursPerMonth           // Kinesis on-demand stream-hour
	priceKCLTable    = 0.57                           // DynamoDB table at 1 RCU + 1 WCU
	albPublicIPv4s   = 2                              // one per subnet (two subnets)
	defaultShardsPer = 1
)

// instanceHourly are on-demand Linux prices per hour in us-east-1 of the instance types
// the modules use and common upgrades; another type is listed without a price.
var instanceHourly = map[string]float64{
	"t3a.nano": 0.0047, "t3a.micro": 0.0094, "t3a.small": 0.0188, "t3a.medium": 0.0376, "t3a.large": 0.0752, "t3a.xlarge": 0.1504,
	"t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664,
	"m5.large": 0.096, "m5.xlarge": 0.192, "m6i.large": 0.096, "m6i.xlarge": 0.192, "m7i.large": 0.1008,
	"c5.large": 0.085, "c5.xlarge": 0.17, "c6i.large": 0.085, "c6i.xlarge": 0.17, "c7i.large": 0.08925,
	"r5.large": 0.126, "r6i.large": 0.126,
}

// costLine is one kind of resource of a stack.
type costLine struct {
	what    string
	count   int
	monthly float64 // each; negative: price not known here
}

// sizing is what the bill depends on in a stack's tfvars.
type sizing struct {
	vals map[string]cty.Value
}

func (z sizing) str(name, def string) string {
	if v := stringVar(z.vals, name); v != "" {
		return v
	}
	return def
}

func (z sizing) num(name string, def int) int {
	v, ok := z.vals[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
		return def
	}
	n, acc := v.AsBigFloat().Int64()
	if acc != 0 || n < 0 {
		return def
	}
	return int(n)
}

func (z sizing) flag(name string, def bool) bool {
	v, ok := z.vals[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return def
	}
	return v.True()
}

// stackCost lists the billable resources of a stack at its minimum size, from the
// stack's tfvars values (instance types, minimum sizes, shards, stream mode, raw loader)
// or the rendered defaults where vals lacks them.
func stackCost(stack string, s Setup, vals map[string]cty.Value) []costLine {
	z := sizing{vals}
	server := func(what, component, defType string, defCount int) costLine {
		typ, n := defType, defCount
		if component != "" {
			typ = z.str("ec2_"+component+"_instance_type", defType)
			n = z.num("ec2_"+component+"_min_size", defCount)
		}
		hourly, known := instanceHourly[typ]
		if !known {
			return costLine{what + " EC2 " + typ, n, -1}
		}
		return costLine{what + " EC2 " + typ, n, hourly*hoursPerMonth + priceEBSRoot + pricePublicIPv4}
	}
	streams := func() costLine {
		if z.str("kinesis_stream_mode_details", "PROVISIONED") == "ON_DEMAND" {
			return costLine{"Kinesis stream, on-demand (plus $0.08 per GB written)", 4, priceOnDemand}
		}
		shards := z.num("kinesis_shard_count", defaultShardsPer)
		return costLine{fmt.Sprintf("Kinesis stream, %d provisioned shard(s)", shards), 4, float64(shards) * priceShard}
	}
	alb := costLine{"Application Load Balancer (+ its public IPv4 addresses)", 1, priceALB + albPublicIPv4s*pricePublicIPv4}
	switch stack {
	case StackIglu:
		return []costLine{
			server("Iglu Server", "iglu", "t3a.micro", 1),
			{"RDS PostgreSQL db.t3.micro (Iglu)", 1, priceRDSMicro},
			alb,
		}
	case StackHybrid:
		return []costLine{streams(), {"S3 bucket (storage and requests by use)", 1, 0}}
	}
	loaders := 0
	for _, l := range []struct {
		name string
		def  bool
	}{{"s3_raw_enabled", false}, {"s3_bad_enabled", true}, {"s3_enriched_enabled", true}} {
		if z.flag(l.name, l.def) {
			loaders++
		}
	}
	lines := []costLine{
		streams(),
		alb,
		server("collector", "collector", "t3a.micro", 1),
		server("enrich", "enrich", "t3a.small", 1),
		server("S3 loader", "", "t3a.micro", loaders),
		{"DynamoDB KCL table (provisioned, autoscaled)", 1 + loaders, priceKCLTable},
	}
	if s.Targets.Postgres && z.flag("postgres_db_enabled", true) {
		lines = append(lines,
			costLine{"RDS PostgreSQL db.t3.micro (events)", 1, priceRDSMicro},
			server("Postgres loader", "", "t3a.micro", 2),
			costLine{"DynamoDB KCL table (Postgres loaders)", 2, priceKCLTable})
	}
	if s.Targets.SnowflakeStreaming && z.flag("snowflake_streaming_enabled", true) {
		lines = append(lines,
			server("Snowflake Streaming Loader", "", "t3a.small", 1),
			costLine{"DynamoDB KCL table (Snowflake loader)", 1, priceKCLTable})
	}
	return lines
}

// writeCost prints a stack's bill of resources and its rough monthly total, returning
// the total.
func writeCost(w io.Writer, title string, lines []costLine) float64 {
	total, unknown := 0.0, false
	fmt.Fprintf(w, "%s:\n", title)
	for _, l := range lines {
		if l.monthly < 0 {
			fmt.Fprintf(w, "  %2d × %-62s (price not known here)\n", l.count, l.what)
			unknown = true
			continue
		}
		fmt.Fprintf(w, "  %2d × %-62s ~$%4.0f/month\n", l.count, l.what, float64(l.count)*l.monthly)
		total += float64(l.count) * l.monthly
	}
	label := "total (us-east-1 on-demand, minimum size, before data transfer)"
	if unknown {
		label = "total of the lines with a price"
	}
	fmt.Fprintf(w, "  %-67s ~$%4.0f/month\n", label, total)
	return total
}

func generatedReadme(s Setup) []byte {
	var b strings.Builder
	if s.Hybrid {
		b.WriteString(`# Streams and bucket for snowplow-mini's per-stage processes

Generated by ` + "`snowplow-mini deploy aws init --hybrid`" + `. Re-running it keeps the values you edited
in hybrid/terraform.tfvars.

The stack holds the four Kinesis streams ({prefix}-raw-stream, {prefix}-enriched-stream,
{prefix}-bad-1-stream, {prefix}-bad-2-stream) and the S3 bucket, created with Snowplow's
kinesis-stream and s3-bucket modules, so the names are those the quick start uses and
Snowplow's own applications can be mixed with snowplow-mini's.

    snowplow-mini deploy aws plan  --out <this folder>
    snowplow-mini deploy aws apply --out <this folder>

Against emulators or any endpoint override (--endpoint-url, or AWS_ENDPOINT_URL_KINESIS /
AWS_ENDPOINT_URL_S3), apply creates the streams and the bucket directly, without Terraform.

`)
		writeCost(&b, "What it costs", stackCost(StackHybrid, s, nil))
		b.WriteString("\n`deploy aws destroy` removes the streams; the bucket is kept when it is not empty: empty it\n(aws s3 rm s3://<bucket> --recursive) and destroy again.\n")
		return []byte(b.String())
	}
	b.WriteString(`# Snowplow pipeline on AWS

Generated by ` + "`snowplow-mini deploy aws init`" + ` from the schemas, enrichments and resolver of a local
snowplow-mini setup. It mirrors Snowplow's open-source quick start: two Terraform stacks built
from Snowplow's modules at pinned versions (see snowplow-mini-deploy.json).

- iglu_server/: Iglu Server (EC2 behind a load balancer, RDS PostgreSQL). schemas/ holds the
  local schemas to push to it.
- pipeline/: collector, the four Kinesis streams, enrich with enrichments/*.json, the S3
  loaders and the bucket, and the selected targets.

Re-running ` + "`deploy aws init`" + ` re-renders the Terraform and keeps every value you edited in
terraform.tfvars. secrets.auto.tfvars (mode 0600, gitignored) holds the generated Iglu super API
key and database passwords: never commit it, nor the Terraform state, which holds them too.

## Order of operations

    snowplow-mini deploy aws check     # offline: files, references, module arguments, values
    snowplow-mini deploy aws plan
    snowplow-mini deploy aws apply     # iglu_server, wait for its health, push schemas, pipeline
    snowplow-mini deploy aws destroy   # pipeline first, then iglu_server

apply runs ` + "`terraform -chdir=iglu_server init/plan/apply`" + `, reads its iglu_server_dns_name
output, writes it to pipeline/iglu_server.auto.tfvars, waits for /api/meta/health, pushes the
schemas with the super API key, then applies pipeline. Commit the .terraform.lock.hcl files
that terraform init writes.

## Licence

The Snowplow applications these modules run are under the Snowplow Limited Use License
(https://docs.snowplow.io/limited-use-license-1.0/): testing and evaluation, not production.
accept_limited_use_license must be set to true by you (or with init --accept-license) in both
terraform.tfvars; snowplow-mini never sets it for you.

## Telemetry

The modules send telemetry to Snowplow Analytics Ltd unless telemetry_enabled = false
(init --no-telemetry).

## What it costs

`)
	b.WriteString("```\n")
	writeCost(&b, "iglu_server", stackCost(StackIglu, s, nil))
	writeCost(&b, "pipeline", stackCost(StackPipeline, s, nil))
	b.WriteString("```\n")
	b.WriteString(`
## Destroy

` + "`deploy aws destroy`" + ` runs terraform destroy on pipeline, then iglu_server. Left for you to remove:
the S3 bucket when it holds data (the module does not force-destroy it: empty it with
aws s3 rm s3://<bucket> --recursive, then destroy again), final RDS snapshots if you enabled
them, and the CloudWatch log groups /aws/ec2/<prefix>-* when they outlive the stacks.
`)
	return []byte(b.String())
}
