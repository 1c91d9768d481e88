package web

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
)

// Desks update live: every change to an order reaches the open desks as a
// server-sent event carrying the order number, and site.js refreshes the
// list (or offers to reload the order page). Changes made on this node
// arrive through Notify at once; changes made on other nodes are found by
// Start's poller, which asks the shared database for orders updated since
// its last look. A subscriber only hears about orders it may see.

// broker fans order numbers out to the connected desks.
type broker struct {
	mu   sync.Mutex
	subs map[chan string]*hotline.User // events are "NUMBER VERSION"
	// done closes when Start's context ends, so that open streams end and a
	// graceful shutdown does not wait for them.
	done chan struct{}
}

func newBroker() *broker {
	return &broker{subs: map[chan string]*hotline.User{}, done: make(chan struct{})}
}

func (b *broker) subscribe(u *hotline.User) chan string {
	ch := make(chan string, 64)
	b.mu.Lock()
	b.subs[ch] = u
	b.mu.Unlock()
	return ch
}

func (b *broker) unsubscribe(ch chan string) {
	b.mu.Lock()
	delete(b.subs, ch)
	b.mu.Unlock()
}

func (b *broker) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Notify tells the open desks that an order was created or changed. It is
// cheap when nobody listens and never blocks: a slow desk misses events
// (its next refresh shows the state anyway). Wire it to httpapi's OnTicket.
func (s *Server) Notify(number string) {
	if s.live.count() == 0 {
		return
	}
	go s.publish(number)
}

func (s *Server) publish(number string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t, err := s.store.Ticket(ctx, number)
	if err != nil {
		return
	}
	units, err := s.store.UnitTree(ctx)
	if err != nil {
		return
	}
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	for ch, u := range s.live.subs {
		if !t.CanSee(u, units) {
			continue
		}
		select {
		case ch <- fmt.Sprintf("%s %d", number, t.Version):
		default:
		}
	}
}

// Start polls the database for orders changed on other nodes until ctx
// ends; then it also closes the open event streams.
func (s *Server) Start(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		close(s.live.done)
	}()
	go func() {
		since := time.Now()
		tick := time.NewTicker(s.poll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if s.live.count() == 0 {
				since = time.Now()
				continue
			}
			next, numbers, err := s.changedSince(ctx, since)
			if err != nil {
				s.log.Warn("live poll", "err", err)
				continue
			}
			since = next
			for _, n := range numbers {
				s.publish(n)
			}
		}
	}()
	return nil
}

// changedSince returns the orders updated after since (overlapping by one
// poll so that a commit racing the clock is not lost; desks ignore repeats).
func (s *Server) changedSince(ctx context.Context, since time.Time) (time.Time, []string, error) {
	now := time.Now()
	rows, err := s.store.DB.Query(ctx, `SELECT number FROM tickets WHERE updated_at > ? ORDER BY updated_at LIMIT 200`,
		database.Millis(since.Add(-s.poll)))
	if err != nil {
		return since, nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return since, nil, err
		}
		out = append(out, n)
	}
	return now, out, rows.Err()
}

// events is the SSE stream of a signed-in desk.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	u := hotline.UserFrom(r.Context())
	if u == nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	ch := s.live.subscribe(u)
	defer s.live.unsubscribe(ch)
	fmt.Fprint(w, "retry: 5000\n\n")
	fl.Flush()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	// Sessions expire: end the stream with the session so that the browser
	// reconnects and is refused.
	end := time.NewTimer(time.Hour)
	defer end.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.live.done:
			return
		case <-end.C:
			return
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case ev := <-ch:
			fmt.Fprintf(w, "event: order\ndata: %s\n\n", ev)
		}
		fl.Flush()
	}
}
