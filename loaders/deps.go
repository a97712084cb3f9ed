package loaders

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// processorArtifact names the loaders in the bad rows they write.
const processorArtifact = "snowplow-mini-loader"

// defaultVersion is the processor version when Deps.Version is empty.
const defaultVersion = "0.1.0"

// Input is a stream a loader reads, with the Checkpointer that keeps consumer groups'
// progress on it (for an in-memory stream, the stream itself).
type Input struct {
	Stream       streams.Stream
	Checkpointer streams.Checkpointer
}

// Deps are what the loaders need from the process. One Deps may be shared by all of
// them; each constructor checks the fields it uses.
type Deps struct {
	// Streams are the pipeline's streams by name. The sink also writes its bad rows to
	// one of them (SinkConfig.BadOutputStream).
	Streams map[string]Input

	// DataDir is the directory of the default SQLite file (events.db) and of the
	// default S3-style folder (s3/). Required by the sink with SQLite at its default
	// path and by the S3 loader with no URL.
	DataDir string

	// Version is the snowplow-mini version, written as the processor version of the
	// loaders' bad rows. Default "0.1.0".
	Version string

	// Logger receives the loaders' logs; nil discards them.
	Logger *slog.Logger

	// Registerer receives the loaders' metrics; nil registers none.
	Registerer prometheus.Registerer

	// Stdout is where the StdoutLoader prints (main passes os.Stdout).
	Stdout io.Writer

	// Getenv reads the AWS_* environment for the S3 loader; nil means os.Getenv.
	Getenv func(string) string
}

func (d Deps) logger(component string) *slog.Logger {
	l := d.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return l.With("component", component)
}

func (d Deps) version() string {
	if d.Version == "" {
		return defaultVersion
	}
	return d.Version
}

func (d Deps) getenv(key string) string {
	if d.Getenv == nil {
		return os.Getenv(key)
	}
	return d.Getenv(key)
}

// input returns the named stream or an error naming the config key that asked for it.
func (d Deps) input(key, name string) (Input, error) {
	in, ok := d.Streams[name]
	if !ok || in.Stream == nil {
		return Input{}, fmt.Errorf("%s: no stream %q", key, name)
	}
	if in.Checkpointer == nil {
		return Input{}, fmt.Errorf("%s: stream %q has no checkpointer", key, name)
	}
	return in, nil
}

// register registers collectors on reg (nil: none), failing on a duplicate.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering metrics: %w", err)
		}
	}
	return nil
}
