package store

import (
	"strconv"
	"sync"
	"testing"
)

func TestConcurrentAdds(t *testing.T) {
	for round := 0; round < 10; round++ {
		s := New()
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 2000; i++ {
					s.Add("k"+strconv.Itoa(i%50), 1)
				}
			}()
		}
		wg.Wait()
		if got := s.Get("k0"); got != 8*40 {
			t.Fatalf("k0 = %d", got)
		}
	}
}
