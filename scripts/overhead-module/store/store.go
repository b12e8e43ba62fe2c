// Package store is a concurrent map: the benchmark module's first package.
package store

import "sync"

// Store maps keys to values under a lock.
type Store struct {
	mu sync.Mutex
	m  map[string]int
}

// New returns an empty Store.
func New() *Store { return &Store{m: map[string]int{}} }

// Add adds n to key.
func (s *Store) Add(key string, n int) {
	s.mu.Lock()
	s.m[key] += n
	s.mu.Unlock()
}

// Get returns key's value.
func (s *Store) Get(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}
