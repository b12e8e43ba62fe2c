// Package codec round-trips records through JSON: the benchmark module's second package.
package codec

import "encoding/json"

// Record is one value.
type Record struct {
	Name  string            `json:"name"`
	Size  int               `json:"size"`
	Attrs map[string]string `json:"attrs"`
}

// RoundTrip encodes and decodes r.
func RoundTrip(r Record) (Record, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return Record{}, err
	}
	var out Record
	err = json.Unmarshal(data, &out)
	return out, err
}
