package codec

import (
	"strconv"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for i := 0; i < 12000; i++ {
		r := Record{Name: "layer-" + strconv.Itoa(i), Size: i, Attrs: map[string]string{"k": strconv.Itoa(i)}}
		out, err := RoundTrip(r)
		if err != nil || out.Name != r.Name || out.Attrs["k"] != r.Attrs["k"] {
			t.Fatalf("round trip %d: %v %+v", i, err, out)
		}
	}
}
