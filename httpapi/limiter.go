package httpapi

import (
	"sync"
	"time"
)

// Limiter is a fixed-window counter per key, in memory on each node. With
// several nodes behind a balancer each enforces its own share, which is
// enough to stop a script hammering the public form or a password.
type Limiter struct {
	mu     sync.Mutex
	n      int
	per    time.Duration
	counts map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// NewLimiter allows n events per key in each period per.
func NewLimiter(n int, per time.Duration) *Limiter {
	return &Limiter{n: n, per: per, counts: map[string]*window{}}
}

// Allow counts one event for key and reports whether it is within the limit.
func (l *Limiter) Allow(key string) bool {
	return l.add(key, 1) <= l.n
}

// Blocked reports whether key has used up its allowance, without counting.
func (l *Limiter) Blocked(key string) bool { return l.add(key, 0) >= l.n }

// Reset forgets key.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	delete(l.counts, key)
	l.mu.Unlock()
}

func (l *Limiter) add(key string, d int) int {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.counts) > 100_000 { // bound memory under a flood of addresses
		for k, w := range l.counts {
			if now.Sub(w.start) > l.per {
				delete(l.counts, k)
			}
		}
	}
	w := l.counts[key]
	if w == nil || now.Sub(w.start) > l.per {
		w = &window{start: now}
		l.counts[key] = w
	}
	w.n += d
	return w.n
}
