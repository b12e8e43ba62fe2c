// Command trivydb writes a tiny Trivy vulnerability DB (schema version 2) for offline tests.
//
// Usage: go run . -in advisories.json -out DIR
//
// DIR is then usable as trivy's --cache-dir with --skip-db-update: it receives DIR/db/trivy.db (BoltDB) and
// DIR/db/metadata.json. The input is a JSON list of advisories:
//
//	[{"id": "CVE-2099-0001", "os": "debian 12", "package": "glibc", "fixed_version": "99.0",
//	  "severity": "CRITICAL", "title": "...", "description": "..."}]
//
// "os" is the bucket name Trivy looks up ("<family> <release>", e.g. "debian 12", "alpine 3.20"); "package" is
// the name the detector queries (for Debian/Ubuntu the *source* package, e.g. glibc for libc6); an empty
// "fixed_version" means unfixed (status affected).
//
// Layout written (what Trivy 0.5x-0.7x reads; the build-time buckets "advisory-detail", "vulnerability-detail"
// and "vulnerability-id" of the real DB builder are dropped at its end, so they are not written here):
//
//	"<os>" / "<package>" / "<vuln id>" -> {"FixedVersion": "..."} or {"Status": 2}
//	"vulnerability" / "<vuln id>"      -> {"Title", "Description", "Severity": "CRITICAL", "VendorSeverity": {"debian": 4}}
//	"data-source" / "<os>"             -> {"ID": "debian", "Name": ..., "URL": ...}
//
// The data source tells Trivy which vendor the OS bucket belongs to, so it picks VendorSeverity[<that vendor>]
// instead of falling back to the deprecated "Severity" string with a warning.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

const schemaVersion = 2

// severities in the order of trivy-db's types.Severity (UNKNOWN=0 ... CRITICAL=4).
var severities = []string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// statusAffected is trivy-db's types.StatusAffected, stored as an integer in the OS bucket.
const statusAffected = 2

type input struct {
	ID           string `json:"id"`
	OS           string `json:"os"`
	Package      string `json:"package"`
	FixedVersion string `json:"fixed_version"`
	Severity     string `json:"severity"`
	Title        string `json:"title"`
	Description  string `json:"description"`
}

type advisory struct {
	FixedVersion string `json:",omitempty"`
	Status       int    `json:",omitempty"`
}

type vulnerability struct {
	Title          string         `json:",omitempty"`
	Description    string         `json:",omitempty"`
	Severity       string         `json:",omitempty"`
	VendorSeverity map[string]int `json:",omitempty"`
}

type dataSource struct {
	ID   string `json:",omitempty"`
	Name string `json:",omitempty"`
	URL  string `json:",omitempty"`
}

type metadata struct {
	Version      int
	NextUpdate   time.Time
	UpdatedAt    time.Time
	DownloadedAt time.Time
}

func main() {
	in := flag.String("in", "", "JSON file with the list of advisories")
	out := flag.String("out", "", "cache dir to write db/trivy.db and db/metadata.json into")
	flag.Parse()
	if *in == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "trivydb:", err)
		os.Exit(1)
	}
}

func run(inPath, cacheDir string) error {
	raw, err := os.ReadFile(inPath)
	if err != nil {
		return err
	}
	var inputs []input
	if err := json.Unmarshal(raw, &inputs); err != nil {
		return fmt.Errorf("parse %s: %w", inPath, err)
	}

	dbDir := filepath.Join(cacheDir, "db")
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return err
	}
	dbPath := filepath.Join(dbDir, "trivy.db")
	if err := os.Remove(dbPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := writeDB(dbPath, inputs); err != nil {
		return err
	}

	now := time.Now().UTC()
	meta, err := json.Marshal(metadata{
		Version:      schemaVersion,
		NextUpdate:   now.AddDate(100, 0, 0),
		UpdatedAt:    now,
		DownloadedAt: now,
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dbDir, "metadata.json"), meta, 0o644)
}

func writeDB(dbPath string, inputs []input) error {
	db, err := bolt.Open(dbPath, 0o644, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		vulns := map[string]*vulnerability{}
		for i, in := range inputs {
			if err := put(tx, in, vulns); err != nil {
				return fmt.Errorf("advisory #%d (%s): %w", i, in.ID, err)
			}
		}
		for id, v := range vulns {
			if err := putJSON(tx, []string{"vulnerability"}, id, v); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

func put(tx *bolt.Tx, in input, vulns map[string]*vulnerability) error {
	if in.ID == "" || in.OS == "" || in.Package == "" {
		return errors.New(`"id", "os" and "package" are required`)
	}
	sevName := strings.ToUpper(in.Severity)
	if sevName == "" {
		sevName = "UNKNOWN"
	}
	sev := -1
	for i, name := range severities {
		if name == sevName {
			sev = i
		}
	}
	if sev < 0 {
		return fmt.Errorf("severity %q is not one of %v", in.Severity, severities)
	}

	adv := advisory{FixedVersion: in.FixedVersion}
	if in.FixedVersion == "" {
		adv.Status = statusAffected
	}
	if err := putJSON(tx, []string{in.OS, in.Package}, in.ID, adv); err != nil {
		return err
	}

	// The vendor (data source ID) is the OS family, e.g. "debian" for "debian 12", as in the real DB.
	vendor := strings.ToLower(strings.Fields(in.OS)[0])
	src := dataSource{ID: vendor, Name: vendor + " (jessy-ci test DB)", URL: "https://example.invalid/trivydb"}
	if err := putJSON(tx, []string{"data-source"}, in.OS, src); err != nil {
		return err
	}

	v, ok := vulns[in.ID]
	if !ok {
		v = &vulnerability{Severity: sevName, VendorSeverity: map[string]int{}}
		vulns[in.ID] = v
	}
	if v.Title == "" {
		v.Title = in.Title
	}
	if v.Description == "" {
		v.Description = in.Description
	}
	if sev > 0 {
		v.VendorSeverity[vendor] = sev
	}
	return nil
}

// putJSON stores value as JSON under key in the nested buckets names[0]/names[1]/..., creating them as needed.
func putJSON(tx *bolt.Tx, names []string, key string, value any) error {
	bkt, err := tx.CreateBucketIfNotExists([]byte(names[0]))
	if err != nil {
		return fmt.Errorf("bucket %q: %w", names[0], err)
	}
	for _, name := range names[1:] {
		if bkt, err = bkt.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("bucket %q: %w", name, err)
		}
	}
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return bkt.Put([]byte(key), data)
}
