// Package payload is the raw stream's record format: Snowplow's Thrift CollectorPayload
// (collector-payload-1, TBinaryProtocol, no message envelope), written by the collector
// and read by enrich. A record written by Snowplow's Scala collector decodes here, and a
// record encoded here decodes with the real IDL.
//
// This is a leaf model package: any stage may import it; it imports no stage.
package payload

// SchemaURI is the value of the schema field of every CollectorPayload.
const SchemaURI = "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0"

// CollectorPayload is one HTTP request as the collector recorded it. Field names and
// Thrift ids follow collector-payload.thrift. The optional string fields use "" for
// "not set" (they are then left out of the encoding), except Querystring, which the
// collector always writes.
type CollectorPayload struct {
	Schema        string   // 31337
	IPAddress     string   // 100
	Timestamp     int64    // 200, milliseconds since the epoch
	Encoding      string   // 210
	Collector     string   // 220
	UserAgent     string   // 300, optional
	RefererURI    string   // 310, optional
	Path          string   // 320, optional
	Querystring   string   // 330, optional (always written by our collector)
	Body          string   // 340, optional
	Headers       []string // 350, optional
	ContentType   string   // 360, optional
	Hostname      string   // 400, optional
	NetworkUserID string   // 410, optional
}
