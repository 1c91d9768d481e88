package ticket

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// Event is one change of an order: who did what, when, from which state to
// which. Events are appended, never updated or deleted; each carries the
// hash of its predecessor on the same order, so that altering or removing
// one breaks the chain (see VerifyChain).
type Event struct {
	ID        int64           `json:"id"`
	TicketID  int64           `json:"ticket_id"`
	Seq       int             `json:"seq"` // 1, 2, 3 … per order
	Action    Action          `json:"action"`
	ActorID   int64           `json:"actor_id,omitempty"`
	ActorName string          `json:"actor_name"`
	Role      string          `json:"role"`
	UnitID    int64           `json:"unit_id,omitempty"`
	At        time.Time       `json:"at"`
	From      State           `json:"from,omitempty"`
	To        State           `json:"to"`
	Text      string          `json:"text,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	PrevHash  string          `json:"prev_hash"`
	Hash      string          `json:"hash"`
}

// ComputeHash returns the SHA-256 over the event's fields and PrevHash. Times
// count in milliseconds, the precision storage keeps.
func (e *Event) ComputeHash() string {
	h := sha256.New()
	w := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	w(e.PrevHash)
	w(strconv.FormatInt(e.TicketID, 10))
	w(strconv.Itoa(e.Seq))
	w(string(e.Action))
	w(strconv.FormatInt(e.ActorID, 10))
	w(e.ActorName)
	w(e.Role)
	w(strconv.FormatInt(e.UnitID, 10))
	w(strconv.FormatInt(e.At.UnixMilli(), 10))
	w(string(e.From))
	w(string(e.To))
	w(e.Text)
	w(string(e.Data))
	return hex.EncodeToString(h.Sum(nil))
}

// Seal numbers the events after the order's last one, links and hashes them,
// and records the chain head on the order. Storage calls it once the order
// has its id.
func Seal(t *Ticket, events []Event) {
	for i := range events {
		e := &events[i]
		t.EventSeq++
		e.TicketID = t.ID
		e.Seq = t.EventSeq
		e.PrevHash = t.LastHash
		e.Hash = e.ComputeHash()
		t.LastHash = e.Hash
	}
}

// ChainError describes the first break found in an order's event chain.
type ChainError struct {
	TicketID int64
	Seq      int
	Reason   string
}

func (e *ChainError) Error() string {
	return "order " + strconv.FormatInt(e.TicketID, 10) + " event " + strconv.Itoa(e.Seq) + ": " + e.Reason
}

// VerifyChain checks one order's events (in Seq order) against each other
// and against the head hash stored on the order.
func VerifyChain(ticketID int64, events []Event, head string) *ChainError {
	prev := ""
	for i, e := range events {
		if e.Seq != i+1 {
			return &ChainError{TicketID: ticketID, Seq: i + 1, Reason: "missing event (sequence jumps to " + strconv.Itoa(e.Seq) + ")"}
		}
		if e.PrevHash != prev {
			return &ChainError{TicketID: ticketID, Seq: e.Seq, Reason: "previous-hash link broken"}
		}
		if e.ComputeHash() != e.Hash {
			return &ChainError{TicketID: ticketID, Seq: e.Seq, Reason: "event altered (hash mismatch)"}
		}
		prev = e.Hash
	}
	if prev != head {
		return &ChainError{TicketID: ticketID, Seq: len(events) + 1, Reason: "missing event at the end of the chain (head hash mismatch)"}
	}
	return nil
}
