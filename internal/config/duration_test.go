package config

import (
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDurationYAML(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "d: 10s", want: 10 * time.Second},
		{in: "d: 168h", want: 168 * time.Hour},
		{in: "d: 10", wantErr: true}, // no unit: not nanoseconds
		{in: "d: soon", wantErr: true},
	}
	for _, tt := range tests {
		var v struct {
			D Duration `yaml:"d"`
		}
		err := yaml.Unmarshal([]byte(tt.in), &v)
		if (err != nil) != tt.wantErr || err == nil && v.D.Std() != tt.want {
			t.Errorf("yaml.Unmarshal(%q) = %v, %v; want %v, error %v", tt.in, v.D, err, tt.want, tt.wantErr)
		}
	}
	out, err := yaml.Marshal(struct {
		D Duration `yaml:"d"`
	}{Duration(90 * time.Second)})
	if err != nil || string(out) != "d: 1m30s\n" {
		t.Errorf("yaml.Marshal = %q, %v; want %q", out, err, "d: 1m30s\n")
	}
}
