package telemetry

import "github.com/prometheus/client_golang/prometheus"

// LayerStats returns the number of layers and their total size in bytes.
type LayerStats func() (count int, bytes int64, err error)

// layersCollector exposes jessy_layers and jessy_layer_bytes as the api sees
// the layer volume it mounts read-only. They are computed on each scrape from
// the volume itself (one directory read and a stat per layer), not asked of
// jessy-core: a scrape costs core nothing and still answers when core is down.
// Between scrapes nothing is kept or updated.
type layersCollector struct {
	stats LayerStats
	count *prometheus.Desc
	bytes *prometheus.Desc
}

func newLayersCollector(stats LayerStats) *layersCollector {
	return &layersCollector{
		stats: stats,
		count: prometheus.NewDesc("jessy_layers", "Layers in the data volume (as jessy-api reads it).", nil, nil),
		bytes: prometheus.NewDesc("jessy_layer_bytes", "Total size of the layers in the data volume, in bytes.", nil, nil),
	}
}

func (c *layersCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.count
	ch <- c.bytes
}

func (c *layersCollector) Collect(ch chan<- prometheus.Metric) {
	if c.stats == nil {
		return
	}
	n, size, err := c.stats()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.count, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(size))
}
