// Package deploy is `snowplow-mini deploy aws`: it carries a local snowplow-mini setup
// (its enrichments/*.json, resolver.json and schema folder) to AWS as Snowplow's
// open-source quick start. It renders two Terraform root modules (iglu_server and
// pipeline) built from Snowplow's snowplow-devops modules at pinned versions, checks
// them offline (deploy/tfcheck), runs terraform (or tofu) in the quick start's order,
// and pushes the local schemas to the deployed Iglu Server. With --hybrid it renders
// only the four Kinesis streams and the bucket that snowplow-mini's per-stage processes
// use, and creates them directly through the AWS SDK against emulator endpoints.
//
// It reads local files and, on request, AWS and an Iglu Server; no pipeline stage
// imports it. main.go wires it into the CLI.
package deploy
