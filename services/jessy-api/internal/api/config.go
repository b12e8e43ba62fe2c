package api

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Defaults for the environment contract of jessy-api.
const (
	DefaultPort          = 3000
	DefaultBindHost      = "0.0.0.0"
	DefaultCoreURL       = "http://127.0.0.1:8080"
	DefaultDataDir       = "./data"
	DefaultMaxLayerBytes = 16 << 20 // 16 MiB, same default as jessy-core
	DefaultCoreTimeout   = 2 * time.Second
)

// Config is everything the handler and the process need.
type Config struct {
	Port          int           // JESSY_API_PORT
	BindHost      string        // JESSY_BIND_HOST
	CoreURL       string        // JESSY_CORE_URL, without trailing slash
	DataDir       string        // JESSY_DATA_DIR, opened read-only
	MaxLayerBytes int64         // JESSY_MAX_LAYER_BYTES
	CoreTimeout   time.Duration // JESSY_CORE_TIMEOUT_MS
	Version       string        // set by main via -ldflags "-X main.version=..."
}

// Addr is the listen address host:port.
func (c Config) Addr() string {
	return net.JoinHostPort(c.BindHost, strconv.Itoa(c.Port))
}

// ConfigFromEnv reads the JESSY_* variables through getenv (os.Getenv in main),
// applying defaults for unset or empty values.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Port:          DefaultPort,
		BindHost:      DefaultBindHost,
		CoreURL:       DefaultCoreURL,
		DataDir:       DefaultDataDir,
		MaxLayerBytes: DefaultMaxLayerBytes,
		CoreTimeout:   DefaultCoreTimeout,
	}
	if v := getenv("JESSY_API_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return c, fmt.Errorf("JESSY_API_PORT: invalid port %q", v)
		}
		c.Port = p
	}
	if v := getenv("JESSY_BIND_HOST"); v != "" {
		c.BindHost = v
	}
	if v := getenv("JESSY_CORE_URL"); v != "" {
		if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			return c, fmt.Errorf("JESSY_CORE_URL: want an http(s) URL, got %q", v)
		}
		c.CoreURL = v
	}
	c.CoreURL = strings.TrimRight(c.CoreURL, "/")
	if v := getenv("JESSY_DATA_DIR"); v != "" {
		c.DataDir = v
	}
	if v := getenv("JESSY_MAX_LAYER_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return c, fmt.Errorf("JESSY_MAX_LAYER_BYTES: invalid size %q", v)
		}
		c.MaxLayerBytes = n
	}
	if v := getenv("JESSY_CORE_TIMEOUT_MS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("JESSY_CORE_TIMEOUT_MS: invalid timeout %q", v)
		}
		c.CoreTimeout = time.Duration(n) * time.Millisecond
	}
	return c, nil
}
