// Command jessy-api serves the public API in front of jessy-core.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/jessy-ci/jessy-api/internal/api"
	"github.com/jessy-ci/jessy-api/internal/telemetry"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	healthcheck := flag.Bool("healthcheck", false, "probe http://127.0.0.1:$JESSY_API_PORT/api/health and exit 0 on 200, else 1")
	flag.Parse()

	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := api.ConfigFromEnv(os.Getenv)
	if err != nil {
		logger.Error("invalid configuration", "error", err)
		os.Exit(2)
	}
	cfg.Version = version

	if *healthcheck {
		os.Exit(probe(cfg))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	tp, err := telemetry.SetupTracing(ctx, cfg.Version)
	if err != nil {
		logger.Error("invalid tracing configuration", "error", err)
		os.Exit(2)
	}
	var opts []api.Option
	if tp != nil {
		opts = append(opts, api.WithTracerProvider(tp))
		endpoint := firstSet(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
		logger.Info("exporting traces", "endpoint", endpoint)
	}
	err = run(ctx, cfg, logger, opts...)
	flushTraces(tp, logger)
	if err != nil {
		logger.Error("server failed", "error", err)
		os.Exit(1)
	}
}

// flushTraces shuts the tracer provider down (exporting what is queued) after
// the server has stopped, so the spans of the last requests are in; a nil
// provider (no export) has nothing to do.
func flushTraces(tp *sdktrace.TracerProvider, logger *slog.Logger) {
	if tp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		logger.Warn("flushing traces", "error", err)
	}
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// run serves until ctx is done (SIGTERM/SIGINT in main), then shuts down gracefully.
func run(ctx context.Context, cfg api.Config, logger *slog.Logger, opts ...api.Option) error {
	srv := &http.Server{
		Addr:              cfg.Addr(),
		Handler:           api.New(cfg, logger, opts...),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("listening", "addr", cfg.Addr(), "version", cfg.Version,
		"core_url", cfg.CoreURL, "data_dir", cfg.DataDir, "max_layer_bytes", cfg.MaxLayerBytes)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// probe is the container HEALTHCHECK: the local API must answer 200.
func probe(cfg api.Config) int {
	client := &http.Client{Timeout: cfg.CoreTimeout + 2*time.Second}
	res, err := client.Get("http://127.0.0.1:" + strconv.Itoa(cfg.Port) + "/api/health")
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "healthcheck: status", res.StatusCode)
		return 1
	}
	return 0
}
