// Package jvm reproduces, byte for byte, the JVM library behaviour that Snowplow's enrich
// shows in its output: java.net.URI parsing and its error messages (and the lenient
// re-encoding Snowplow falls back to), jawn/circe JSON parsing, errors and noSpaces
// printing, java.math.BigDecimal parsing and printing, Joda-Time formatting and period
// arithmetic over the whole range of a long, URLEncodedUtils query-string splitting with
// Java's charsets, commons-codec's lenient base64, and String.length in UTF-16 units.
//
// It holds no Snowplow logic: what a field means and which failure a bad row reports stay
// in enrich and its subpackages, which are the only importers (the package is internal to
// enrich). It imports nothing of the repository. Each parser of untrusted input has a
// fuzzer here; the golden tests of enrich hold the combined output.
package jvm
