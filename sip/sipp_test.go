package sip

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline12345/hotline/callcenter"
	"github.com/hotline12345/hotline/database"
)

// The tests drive the engine with sipp as callers and as agents' phones,
// over loopback only. Scenario files are in testdata; the RTP captures
// they play (RFC 2833 key presses, voice) are generated here.

func needSipp(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("HOTLINE_REQUIRE_SIPP") != "" {
			t.Fatal("HOTLINE_REQUIRE_SIPP is set but sipp is not installed (Debian package sip-tester)")
		}
		t.Skip("sipp not installed (Debian package sip-tester): skipping SIP tests")
	}
	if testing.Short() {
		t.Skip("-short: skipping SIP tests")
	}
	return p
}

// writePcap writes RTP packets as an Ethernet/IPv4/UDP capture, the form
// sipp's play_pcap_audio reads.
func writePcap(path string, packets [][]byte, interval time.Duration) error {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 1) // Ethernet
	b.Write(hdr)
	for i, rtp := range packets {
		udpLen := 8 + len(rtp)
		ipLen := 20 + udpLen
		frame := make([]byte, 14+ipLen)
		binary.BigEndian.PutUint16(frame[12:], 0x0800)
		ip := frame[14:]
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
		var sum uint32
		for j := 0; j < 20; j += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[j:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		udp := ip[20:]
		binary.BigEndian.PutUint16(udp[0:], 40000)
		binary.BigEndian.PutUint16(udp[2:], 40002)
		binary.BigEndian.PutUint16(udp[4:], uint16(udpLen))
		copy(udp[8:], rtp)
		ts := time.Duration(i) * interval
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(1700000000+ts/time.Second))
		le.PutUint32(rec[4:], uint32((ts%time.Second)/time.Microsecond))
		le.PutUint32(rec[8:], uint32(len(frame)))
		le.PutUint32(rec[12:], uint32(len(frame)))
		b.Write(rec)
		b.Write(frame)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func rtpPacket(pt byte, marker bool, seq uint16, ts uint32, payload []byte) []byte {
	p := make([]byte, 12+len(payload))
	p[0] = 0x80
	p[1] = pt
	if marker {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], 0x12345678)
	copy(p[12:], payload)
	return p
}

// dtmfPackets is one key press as RFC 2833 telephone-events (PT 101):
// the first packet already has a duration (diago ignores a zero-duration
// start), then three end-of-event packets.
func dtmfPackets(key byte) [][]byte {
	event := map[byte]byte{'*': 10, '#': 11}[key]
	if key >= '0' && key <= '9' {
		event = key - '0'
	}
	var out [][]byte
	seq := uint16(1000)
	for i := 1; i <= 5; i++ {
		dur := uint16(160 * i)
		out = append(out, rtpPacket(101, i == 1, seq, 8000, []byte{event, 10, byte(dur >> 8), byte(dur)}))
		seq++
	}
	for i := 0; i < 3; i++ {
		out = append(out, rtpPacket(101, false, seq, 8000, []byte{event, 0x80 | 10, 0x03, 0xC0})) // 960
		seq++
	}
	return out
}

// voicePackets is seconds of a 440 Hz tone in PCMU, 20 ms a packet.
func voicePackets(seconds int) [][]byte {
	var out [][]byte
	n := 0
	for i := 0; i < seconds*50; i++ {
		payload := make([]byte, 160)
		for j := range payload {
			v := int16(3000 * math.Sin(2*math.Pi*440*float64(n)/8000))
			payload[j] = linearToUlaw(v)
			n++
		}
		out = append(out, rtpPacket(0, i == 0, uint16(i), uint32(i*160), payload))
	}
	return out
}

func linearToUlaw(s int16) byte {
	const bias, clip = 0x84, 32635
	sign := byte(0)
	v := int(s)
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0f
	return ^(sign | byte(exp<<4) | byte(mant))
}

// shortPrompts writes 0.2 s silent prompts so the tests do not wait for
// the real (several seconds long) ones.
func shortPrompts(t *testing.T) string {
	dir := t.TempDir()
	for _, n := range promptNames {
		pcm := make([]byte, 3200)
		var b bytes.Buffer
		b.WriteString("RIFF")
		binary.Write(&b, binary.LittleEndian, uint32(36+len(pcm)))
		b.WriteString("WAVEfmt ")
		for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
			binary.Write(&b, binary.LittleEndian, v)
		}
		b.WriteString("data")
		binary.Write(&b, binary.LittleEndian, uint32(len(pcm)))
		b.Write(pcm)
		if err := os.WriteFile(filepath.Join(dir, n+".wav"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	for {
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		u.Close()
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			l.Close()
			return port
		}
	}
}

type harness struct {
	t      *testing.T
	svc    *callcenter.Service
	eng    *Engine
	addr   string
	dir    string // sipp working directory: scenarios and captures
	cancel context.CancelFunc
	done   chan error
}

var mediaPort = struct {
	sync.Mutex
	next int
}{next: 26000}

func nextMediaPort() int {
	mediaPort.Lock()
	defer mediaPort.Unlock()
	mediaPort.next += 10
	return mediaPort.next
}

func startEngine(t *testing.T, opts callcenter.Options, cfg Config) *harness {
	t.Helper()
	needSipp(t)
	db := database.OpenTestSQLite(t)
	opts.DataDir = t.TempDir()
	if opts.RingTimeout == 0 {
		opts.RingTimeout = 2 * time.Second
	}
	if opts.WrapUp == 0 {
		opts.WrapUp = -1
	}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	svc, err := callcenter.New(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PromptsDir = shortPrompts(t)
	cfg.SatisfactionTimeout = 4 * time.Second
	eng, err := New(cfg, svc)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, svc: svc, eng: eng, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), dir: t.TempDir(), done: make(chan error, 1)}
	for _, f := range []string{"register.xml", "register_refused.xml", "agent_answer.xml", "agent_hungup.xml", "agent_noanswer.xml", "agent_busy.xml", "caller_keys.xml", "caller_hangup.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		_ = os.WriteFile(filepath.Join(h.dir, f), b, 0o644)
	}
	if err := writePcap(filepath.Join(h.dir, "voice.pcap"), voicePackets(3), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- eng.Serve(ctx, h.addr) }()
	select {
	case <-eng.Ready():
	case err := <-h.done:
		t.Fatal(err)
	}
	return h
}

func (h *harness) stop() {
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Error(err)
	}
}

// sipp runs sipp in the harness directory and returns its error and output.
func (h *harness) sipp(ctx context.Context, dir string, args ...string) (string, error) {
	args = append(args, "-i", "127.0.0.1", "-nostdin", "-timeout", "40s", "-timeout_error", "-trace_err",
		"-error_file", filepath.Join(dir, fmt.Sprintf("err-%d.log", time.Now().UnixNano())))
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "err-*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			out = append(out, b...)
		}
	}
	return string(out), err
}

// register registers agent's phone (played by sipp on phonePort).
func (h *harness) register(user, password string, phonePort int, expect string) error {
	scenario := "register.xml"
	if expect == "403" {
		scenario = "register_refused.xml"
	}
	out, err := h.sipp(context.Background(), h.dir, "-sf", scenario, "-s", user, "-au", user, "-ap", password,
		"-key", "agent_port", fmt.Sprint(phonePort), "-m", "1", "-p", fmt.Sprint(freePort(h.t)), h.addr)
	if err != nil {
		return fmt.Errorf("%v\n%s", err, tail(out))
	}
	return nil
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// phone starts sipp as an agent's phone running scenario for calls calls;
// the returned function waits for it.
func (h *harness) phone(scenario string, port, calls int, talk time.Duration) func() error {
	return h.phoneIn(h.dir, scenario, port, calls, talk)
}

// phoneIn is phone run in dir (a party's directory, see party).
func (h *harness) phoneIn(dir, scenario string, port, calls int, talk time.Duration) func() error {
	ch := make(chan error, 1)
	go func() {
		out, err := h.sipp(context.Background(), dir, "-sf", scenario, "-p", fmt.Sprint(port), "-mp", fmt.Sprint(nextMediaPort()),
			"-m", fmt.Sprint(calls), "-d", fmt.Sprint(talk.Milliseconds()))
		if err != nil {
			err = fmt.Errorf("phone %s: %v\n%s", scenario, err, tail(out))
		}
		ch <- err
	}()
	return func() error { return <-ch }
}

// caller runs one sipp caller; key is pressed repeatedly (caller_keys) or,
// if 0, the caller hangs up after hold (caller_hangup).
func (h *harness) caller(number string, key byte, hold time.Duration, extra ...string) error {
	dir := h.t.TempDir()
	for _, f := range []string{"caller_keys.xml", "caller_hangup.xml", "voice.pcap"} {
		b, _ := os.ReadFile(filepath.Join(h.dir, f))
		_ = os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	scenario := "caller_hangup.xml"
	if key != 0 {
		scenario = "caller_keys.xml"
		if err := writePcap(filepath.Join(dir, "dtmf.pcap"), dtmfPackets(key), 20*time.Millisecond); err != nil {
			return err
		}
	}
	args := append([]string{"-sf", scenario, "-s", number, "-m", "1", "-d", fmt.Sprint(hold.Milliseconds()),
		"-p", fmt.Sprint(freePort(h.t)), "-mp", fmt.Sprint(nextMediaPort()), h.addr}, extra...)
	out, err := h.sipp(context.Background(), dir, args...)
	if err != nil {
		return fmt.Errorf("caller %s: %v\n%s", number, err, tail(out))
	}
	return nil
}

func (h *harness) lastCall(caller string) callcenter.Call {
	h.t.Helper()
	// The engine writes the last events just after the BYE exchange.
	for i := 0; i < 50; i++ {
		calls, err := h.svc.Store().History(context.Background(), caller, 1)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(calls) == 1 && calls[0].EndedAt != nil && (calls[0].State != callcenter.Answered || calls[0].Recording != "") {
			return calls[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	calls, _ := h.svc.Store().History(context.Background(), caller, 1)
	if len(calls) == 0 {
		h.t.Fatalf("no call recorded for %s", caller)
	}
	return calls[0]
}

func goroutinesSettle(t *testing.T, base int) {
	t.Helper()
	for i := 0; i < 50; i++ {
		if runtime.NumGoroutine() <= base+2 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	t.Fatalf("goroutines: %d, were %d before the engine started\n%s", runtime.NumGoroutine(), base, buf[:n])
}

// TestCallAnsweredRated: a registered agent takes the call, talks, hangs
// up; the caller presses 5; the record has agent, talk, recording and
// satisfaction, and nothing leaks.
func TestCallAnsweredRated(t *testing.T) {
	needSipp(t)
	base := runtime.NumGoroutine()
	h := startEngine(t, callcenter.Options{}, Config{})
	ctx := context.Background()
	if err := h.svc.SetSIPPassword(ctx, 2, "li", "secret-li"); err != nil {
		t.Fatal(err)
	}
	phonePort := freePort(t)
	wait := h.phone("agent_answer.xml", phonePort, 1, 2*time.Second)
	time.Sleep(300 * time.Millisecond) // phone listening
	if err := h.register("li", "secret-li", phonePort, "200"); err != nil {
		t.Fatal(err)
	}
	if a := h.svc.Agent("li"); a.State != callcenter.Ready {
		t.Fatalf("registered agent: %+v", a)
	}
	if err := h.caller("13800000001", '5', 0); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	c := h.lastCall("13800000001")
	if c.State != callcenter.Answered || c.Agent != "li" || c.Satisfaction != 5 || c.TalkSeconds < 1 || c.Recording == "" {
		t.Fatalf("record: %+v", c)
	}
	wav, err := os.ReadFile(filepath.Join(h.svc.RecordingsDir(), c.Recording))
	if err != nil || len(wav) < 44+32000 || string(wav[:4]) != "RIFF" || binary.LittleEndian.Uint16(wav[22:]) != 2 {
		t.Fatalf("recording: %d bytes, %v", len(wav), err)
	}
	h.stop()
	goroutinesSettle(t, base)
}

// TestWrongPasswordAndRingOut: a phone with a wrong password is refused;
// an agent who never answers is rung for the ring timeout, becomes not
// ready, and the caller, still waiting, hangs up: abandoned, with a
// call-back task.
func TestWrongPasswordAndRingOut(t *testing.T) {
	needSipp(t)
	base := runtime.NumGoroutine()
	h := startEngine(t, callcenter.Options{RingTimeout: time.Second}, Config{})
	ctx := context.Background()
	if err := h.svc.SetSIPPassword(ctx, 3, "wang", "secret-wang"); err != nil {
		t.Fatal(err)
	}
	phonePort := freePort(t)
	if err := h.register("wang", "wrong-password", phonePort, "403"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("nobody", "whatever1", phonePort, "403"); err != nil {
		t.Fatal(err)
	}
	if a := h.svc.Agent("wang"); a.State != callcenter.Offline {
		t.Fatalf("refused phone made the agent %s", a.State)
	}
	wait := h.phone("agent_noanswer.xml", phonePort, 1, 0)
	time.Sleep(300 * time.Millisecond)
	if err := h.register("wang", "secret-wang", phonePort, "200"); err != nil {
		t.Fatal(err)
	}
	if err := h.caller("13800000002", 0, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	c := h.lastCall("13800000002")
	if c.State != callcenter.Abandoned || c.Agent != "" || c.WaitSeconds < 2 {
		t.Fatalf("record: %+v", c)
	}
	if a := h.svc.Agent("wang"); a.State != callcenter.NotReady || a.Reason != callcenter.ReasonNoAnswer {
		t.Fatalf("agent after ring-out: %+v", a)
	}
	cbs, _ := h.svc.Store().Callbacks(ctx, callcenter.CallbackOpen, 0)
	if len(cbs) != 1 || cbs[0].Caller != "13800000002" || cbs[0].Reason != callcenter.CallbackAbandoned {
		t.Fatalf("call-back tasks: %+v", cbs)
	}
	h.stop()
	goroutinesSettle(t, base)
}

// TestOverloadCallback: in overload, a waiting caller is offered a
// call-back and presses 1: the call ends as callback with a task.
func TestOverloadCallback(t *testing.T) {
	needSipp(t)
	h := startEngine(t, callcenter.Options{Overload: callcenter.Overload{Manual: true, CallbackAfter: time.Second}}, Config{})
	if err := h.caller("13800000003", '1', 0); err != nil {
		t.Fatal(err)
	}
	c := h.lastCall("13800000003")
	if c.State != callcenter.Callback {
		t.Fatalf("record: %+v", c)
	}
	cbs, _ := h.svc.Store().Callbacks(context.Background(), callcenter.CallbackOpen, 0)
	if len(cbs) != 1 || cbs[0].Reason != callcenter.CallbackRequested {
		t.Fatalf("call-back tasks: %+v", cbs)
	}
	h.stop()
}

// TestMalformedSIP: garbage, a request without SDP and an unknown method
// do not stop the engine, which still answers a call afterwards.
func TestMalformedSIP(t *testing.T) {
	needSipp(t)
	h := startEngine(t, callcenter.Options{}, Config{})
	conn, err := net.Dial("udp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range []string{
		"\x00\x01garbage\r\n\r\n",
		"INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: broken\r\n\r\n",
		"INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:12345@b>\r\nCall-ID: nosdp\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		"FOO sip:x SIP/2.0\r\n\r\n",
		"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK2\r\nFrom: <sip:li@b>;tag=1\r\nTo: <sip:li@b>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\nAuthorization: Digest username=\"li\r\nContent-Length: 0\r\n\r\n",
	} {
		if _, err := conn.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if err := h.caller("13800000004", 0, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c := h.lastCall("13800000004"); c.State != callcenter.Abandoned {
		t.Fatalf("record after garbage: %+v", c)
	}
	// The same over TCP.
	if err := h.caller("13800000005", 0, 500*time.Millisecond, "-t", "t1"); err != nil {
		t.Fatal(err)
	}
	if c := h.lastCall("13800000005"); c.State != callcenter.Abandoned {
		t.Fatalf("TCP call: %+v", c)
	}
	h.stop()
}

// TestCallerHangsUp: callers hang up at different moments — in the
// greeting, while waiting with no agent, while talking — and each record
// says so; the agent goes back to ready.
func TestCallerHangsUp(t *testing.T) {
	needSipp(t)
	base := runtime.NumGoroutine()
	h := startEngine(t, callcenter.Options{}, Config{})
	ctx := context.Background()
	if err := h.svc.SetSIPPassword(ctx, 4, "zhao", "secret-zhao"); err != nil {
		t.Fatal(err)
	}
	// No agent yet: in the greeting (0.1 s) and in the queue (1 s).
	for _, c := range []struct {
		number string
		hold   time.Duration
	}{{"13900000001", 100 * time.Millisecond}, {"13900000002", time.Second}} {
		if err := h.caller(c.number, 0, c.hold); err != nil {
			t.Fatal(err)
		}
		if r := h.lastCall(c.number); r.State != callcenter.Abandoned || r.Agent != "" {
			t.Fatalf("%s: %+v", c.number, r)
		}
	}
	// While talking: the agent's phone gets the BYE, no satisfaction.
	phonePort := freePort(t)
	wait := h.phone("agent_hungup.xml", phonePort, 1, 0)
	time.Sleep(300 * time.Millisecond)
	if err := h.register("zhao", "secret-zhao", phonePort, "200"); err != nil {
		t.Fatal(err)
	}
	if err := h.caller("13900000003", 0, 2500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	r := h.lastCall("13900000003")
	if r.State != callcenter.Answered || r.Agent != "zhao" || r.Satisfaction != 0 || r.EndedAt == nil {
		t.Fatalf("hang-up while talking: %+v", r)
	}
	if a := h.svc.Agent("zhao"); a.State != callcenter.Ready {
		t.Fatalf("agent after the call: %+v", a)
	}
	h.stop()
	goroutinesSettle(t, base)
}

// TestHoldAndTransfer: li answers, puts the caller on hold and back, then
// transfers the call to wang, who talks and hangs up; the caller rates 5.
// The record keeps the first agent, says transferred to agent:wang, has
// the hold, and both agents are ready again.
func TestHoldAndTransfer(t *testing.T) {
	needSipp(t)
	base := runtime.NumGoroutine()
	h := startEngine(t, callcenter.Options{}, Config{})
	ctx := context.Background()
	for _, a := range []struct {
		id         int64
		user, pass string
	}{{2, "li", "secret-li"}, {3, "wang", "secret-wang"}} {
		if err := h.svc.SetSIPPassword(ctx, a.id, a.user, a.pass); err != nil {
			t.Fatal(err)
		}
	}
	liPort, wangPort := freePort(t), freePort(t)
	waitLi := h.phone("agent_hungup.xml", liPort, 1, 0)
	waitWang := h.phone("agent_answer.xml", wangPort, 1, time.Second)
	time.Sleep(300 * time.Millisecond)
	if err := h.register("li", "secret-li", liPort, "200"); err != nil {
		t.Fatal(err)
	}
	// wang is busy (not ready) so the ACD gives the call to li.
	if _, err := h.svc.AgentDo("wang", callcenter.ActNotReady, "会议"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("wang", "secret-wang", wangPort, "200"); err != nil {
		t.Fatal(err)
	}
	callerDone := make(chan error, 1)
	go func() { callerDone <- h.caller("13700000009", '5', 0) }()
	var callID string
	for i := 0; i < 100 && callID == ""; i++ {
		if a := h.svc.Agent("li"); a.State == callcenter.Talking {
			callID = a.CallID
		}
		time.Sleep(100 * time.Millisecond)
	}
	if callID == "" {
		t.Fatal("li never talked")
	}
	var ctl callcenter.CallControl
	for i := 0; i < 50; i++ {
		var err error
		if ctl, err = h.svc.Control(callID); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ctl == nil {
		t.Fatal("no control for the call")
	}
	if err := ctl.Hold(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if err := ctl.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Transfer("12333"); err == nil {
		t.Fatal("outside transfer without a trunk accepted")
	}
	if err := ctl.Transfer("agent:wang"); err == nil {
		t.Fatal("transfer to a not-ready agent accepted")
	}
	if _, err := h.svc.AgentDo("wang", callcenter.ActReady, ""); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Transfer("agent:wang"); err != nil {
		t.Fatal(err)
	}
	if err := <-callerDone; err != nil {
		t.Fatal(err)
	}
	for _, w := range []func() error{waitLi, waitWang} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	var c callcenter.Call
	for i := 0; i < 50; i++ {
		if c = h.lastCall("13700000009"); c.Satisfaction != 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.State != callcenter.Transferred || c.Target != "agent:wang" || c.Agent != "li" || c.Satisfaction != 5 || c.HoldSeconds < 1 {
		t.Fatalf("record: %+v", c)
	}
	for _, name := range []string{"li", "wang"} {
		if a := h.svc.Agent(name); a.State != callcenter.Ready {
			t.Fatalf("%s after the call: %+v", name, a)
		}
	}
	h.stop()
	goroutinesSettle(t, base)
}

// TestTransferOutside: the agent transfers the caller to 12333 through the
// trunk (a sipp UAS playing the other hotline); li is freed at once.
func TestTransferOutside(t *testing.T) {
	needSipp(t)
	trunkPort := freePort(t)
	h := startEngine(t, callcenter.Options{}, Config{Trunk: fmt.Sprintf("127.0.0.1:%d", trunkPort)})
	if err := h.svc.SetSIPPassword(context.Background(), 2, "li", "secret-li"); err != nil {
		t.Fatal(err)
	}
	liPort := freePort(t)
	waitLi := h.phone("agent_hungup.xml", liPort, 1, 0)
	waitTrunk := h.phone("agent_answer.xml", trunkPort, 1, time.Second)
	time.Sleep(300 * time.Millisecond)
	if err := h.register("li", "secret-li", liPort, "200"); err != nil {
		t.Fatal(err)
	}
	callerDone := make(chan error, 1)
	go func() { callerDone <- h.caller("13700000010", '4', 0) }()
	var ctl callcenter.CallControl
	for i := 0; i < 100 && ctl == nil; i++ {
		if a := h.svc.Agent("li"); a.State == callcenter.Talking {
			ctl, _ = h.svc.Control(a.CallID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ctl == nil {
		t.Fatal("li never talked")
	}
	if err := ctl.Transfer("12333"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []func() error{func() error { return <-callerDone }, waitLi, waitTrunk} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	var c callcenter.Call
	for i := 0; i < 50; i++ {
		if c = h.lastCall("13700000010"); c.Satisfaction != 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.State != callcenter.Transferred || c.Target != "12333" || c.Agent != "li" || c.Satisfaction != 4 {
		t.Fatalf("record: %+v", c)
	}
	h.stop()
}

// ---- During the call: attended transfer, transfer to a queue, three-way.
//
// These tests check the audio itself. Each party (a sipp caller or phone)
// sends its own tone (caller 400 Hz, first agent 1000 Hz, second agent or
// third party 1700 Hz: bin-aligned for 20 ms frames, and no low-order
// intermodulation product of two of them falls on the third), while its
// SDP points the engine's RTP at a UDP socket of the test (rtpSink), which
// keeps every frame with its arrival time. Who heard whom in each phase is
// then counted frame by frame with the Goertzel algorithm. The prompts are
// silent in tests, so a tone heard where none should be is a leak.

const (
	toneCaller = 400
	toneAgent  = 1000
	toneThird  = 1700
)

// tonePackets is seconds of a freq Hz tone in PCMU, 20 ms a packet.
func tonePackets(freq float64, seconds int) [][]byte {
	var out [][]byte
	n := 0
	for i := 0; i < seconds*50; i++ {
		payload := make([]byte, 160)
		for j := range payload {
			payload[j] = linearToUlaw(int16(3000 * math.Sin(2*math.Pi*freq*float64(n)/8000)))
			n++
		}
		out = append(out, rtpPacket(0, i == 0, uint16(i), uint32(i*160), payload))
	}
	return out
}

func ulawToLinear(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func alawToLinear(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0f) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// toneLevel is the amplitude of the freq component of a frame (Goertzel).
func toneLevel(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / 8000
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(len(pcm))
}

type sinkFrame struct {
	at  time.Time
	pcm []int16
}

// rtpSink receives the RTP the engine sends to one party.
type rtpSink struct {
	conn   *net.UDPConn
	mu     sync.Mutex
	frames []sinkFrame
	done   chan struct{}
}

func newSink(t *testing.T) *rtpSink {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &rtpSink{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 2048)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			if n < 12+80 || buf[0]>>6 != 2 {
				continue
			}
			pt := buf[1] & 0x7f
			if pt != 0 && pt != 8 {
				continue // telephone-event, RTCP
			}
			pcm := make([]int16, n-12)
			for i, b := range buf[12:n] {
				if pt == 0 {
					pcm[i] = ulawToLinear(b)
				} else {
					pcm[i] = alawToLinear(b)
				}
			}
			s.mu.Lock()
			s.frames = append(s.frames, sinkFrame{at: time.Now(), pcm: pcm})
			s.mu.Unlock()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *rtpSink) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

func (s *rtpSink) close() {
	s.conn.Close()
	<-s.done
}

// heard counts the frames received in [from, to) that carry freq.
func (s *rtpSink) heard(from, to time.Time, freq float64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.frames {
		if !f.at.Before(from) && f.at.Before(to) && toneLevel(f.pcm, freq) >= 800 {
			n++
		}
	}
	return n
}

// window is a phase of a test call, trimmed of its edges.
type window struct{ from, to time.Time }

func phase(from, to time.Time) window {
	return window{from.Add(300 * time.Millisecond), to.Add(-100 * time.Millisecond)}
}

// expectHeard fails unless the sink heard each of want in at least 20
// frames (0.4 s) of w, and none of not in more than 2.
func expectHeard(t *testing.T, who string, s *rtpSink, w window, want, not []float64) {
	t.Helper()
	for _, f := range append(append([]float64(nil), want...), not...) {
		t.Logf("%s: %g Hz in %d frames of %v", who, f, s.heard(w.from, w.to, f), w.to.Sub(w.from).Round(time.Millisecond))
	}
	for _, f := range want {
		if n := s.heard(w.from, w.to, f); n < 20 {
			t.Errorf("%s heard %g Hz in %d frames of %v, want ≥ 20", who, f, n, w.to.Sub(w.from).Round(time.Millisecond))
		}
	}
	for _, f := range not {
		if n := s.heard(w.from, w.to, f); n > 2 {
			t.Errorf("%s heard %g Hz in %d frames of %v, want none", who, f, n, w.to.Sub(w.from).Round(time.Millisecond))
		}
	}
}

// party prepares a sipp working directory for one party: scenario with
// its SDP pointing the engine's RTP at a new sink, and voice.pcap a tone
// of freq Hz for seconds.
func (h *harness) party(scenario string, freq float64, seconds int) (string, *rtpSink) {
	h.t.Helper()
	dir := h.t.TempDir()
	sink := newSink(h.t)
	b, err := os.ReadFile(filepath.Join("testdata", scenario))
	if err != nil {
		h.t.Fatal(err)
	}
	x := strings.Replace(string(b), "m=audio [media_port]", fmt.Sprintf("m=audio %d", sink.port()), 1)
	if x == string(b) {
		h.t.Fatalf("%s: no m=audio line", scenario)
	}
	if err := os.WriteFile(filepath.Join(dir, scenario), []byte(x), 0o644); err != nil {
		h.t.Fatal(err)
	}
	if err := writePcap(filepath.Join(dir, "voice.pcap"), tonePackets(freq, seconds), 20*time.Millisecond); err != nil {
		h.t.Fatal(err)
	}
	return dir, sink
}

// callerIn runs the caller_hangup scenario from dir (see party).
func (h *harness) callerIn(dir, number string, hold time.Duration) error {
	out, err := h.sipp(context.Background(), dir, "-sf", "caller_hangup.xml", "-s", number, "-m", "1", "-d", fmt.Sprint(hold.Milliseconds()),
		"-p", fmt.Sprint(freePort(h.t)), "-mp", fmt.Sprint(nextMediaPort()), h.addr)
	if err != nil {
		return fmt.Errorf("caller %s: %v\n%s", number, err, tail(out))
	}
	return nil
}

func (h *harness) accounts(names ...string) {
	h.t.Helper()
	for i, n := range names {
		if err := h.svc.SetSIPPassword(context.Background(), int64(10+i), n, "secret-"+n); err != nil {
			h.t.Fatal(err)
		}
	}
}

// talking waits until agent talks and returns the control of her call.
func (h *harness) talking(agent string) (string, callcenter.CallControl) {
	h.t.Helper()
	for i := 0; i < 150; i++ {
		if a := h.svc.Agent(agent); a.State == callcenter.Talking {
			if ctl, err := h.svc.Control(a.CallID); err == nil {
				return a.CallID, ctl
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("%s never talked: %+v", agent, h.svc.Agent(agent))
	return "", nil
}

func (h *harness) expectState(agent string, want callcenter.AgentState) {
	h.t.Helper()
	for i := 0; i < 50; i++ {
		if h.svc.Agent(agent).State == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("%s: %+v, want %s", agent, h.svc.Agent(agent), want)
}

// callRecord waits for the call's record to be complete (ended, the
// recording attached).
func (h *harness) callRecord(callID string) *callcenter.Call {
	h.t.Helper()
	var c *callcenter.Call
	for i := 0; i < 100; i++ {
		var err error
		if c, err = h.svc.Store().GetByCallID(context.Background(), callID); err == nil && c.EndedAt != nil && c.Recording != "" {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("record of %s never completed: %+v", callID, c)
	return nil
}

// openSockets counts the process's open sockets (Linux; -1 elsewhere).
func openSockets() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// noLeaks checks, after the engine stopped, that its goroutines ended and
// its sockets (SIP listeners, every call's RTP) are closed.
func noLeaks(t *testing.T, goroutines, sockets int) {
	t.Helper()
	goroutinesSettle(t, goroutines)
	if sockets < 0 {
		return
	}
	for i := 0; i < 50; i++ {
		if openSockets() <= sockets {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("sockets: %d open, were %d before the engine started", openSockets(), sockets)
}

// TestAttendedTransfer: li puts the caller on hold and consults wang, who
// answers; li and wang hear each other, the caller hears neither; li
// completes the transfer: li is hung up (wrap-up, here ready at once),
// caller and wang hear each other. The record keeps li as the agent, wang
// as the last, transferred to agent:wang with the consultation as hold.
func TestAttendedTransfer(t *testing.T) {
	needSipp(t)
	base, sockets := runtime.NumGoroutine(), openSockets()
	h := startEngine(t, callcenter.Options{}, Config{})
	h.accounts("li", "wang")
	liDir, li := h.party("agent_hungup.xml", toneAgent, 20)
	wangDir, wang := h.party("agent_hungup.xml", toneThird, 20)
	callerDir, caller := h.party("caller_hangup.xml", toneCaller, 20)
	liPort, wangPort := freePort(t), freePort(t)
	waitLi := h.phoneIn(liDir, "agent_hungup.xml", liPort, 1, 0)
	waitWang := h.phoneIn(wangDir, "agent_hungup.xml", wangPort, 1, 0)
	time.Sleep(300 * time.Millisecond)
	if _, err := h.svc.AgentDo("wang", callcenter.ActNotReady, "会议"); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		name string
		port int
	}{{"li", liPort}, {"wang", wangPort}} {
		if err := h.register(a.name, "secret-"+a.name, a.port, "200"); err != nil {
			t.Fatal(err)
		}
	}
	callerDone := make(chan error, 1)
	go func() { callerDone <- h.callerIn(callerDir, "13600000001", 10*time.Second) }()
	callID, ctl := h.talking("li")
	t0 := time.Now()
	time.Sleep(time.Second)
	if err := ctl.CompleteTransfer(); err == nil {
		t.Fatal("complete without a consultation accepted")
	}
	if _, err := h.svc.AgentDo("wang", callcenter.ActReady, ""); err != nil {
		t.Fatal(err)
	}
	tc := time.Now()
	if err := ctl.Consult("agent:wang"); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	if a := h.svc.Agent("wang"); a.State != callcenter.Talking || a.CallID != callID {
		t.Fatalf("wang consulted: %+v", a)
	}
	if err := ctl.Hold(); err == nil {
		t.Fatal("hold during a consultation accepted")
	}
	time.Sleep(1500 * time.Millisecond)
	t2 := time.Now()
	if err := ctl.CompleteTransfer(); err != nil {
		t.Fatal(err)
	}
	t3 := time.Now()
	h.expectState("li", callcenter.Ready)
	if err := waitLi(); err != nil { // li got the BYE
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	t4 := time.Now()
	if err := <-callerDone; err != nil {
		t.Fatal(err)
	}
	if err := waitWang(); err != nil {
		t.Fatal(err)
	}
	talk, consult, after := phase(t0, tc), phase(t1, t2), phase(t3, t4)
	expectHeard(t, "li talking", li, talk, []float64{toneCaller}, nil)
	expectHeard(t, "caller talking", caller, talk, []float64{toneAgent}, nil)
	expectHeard(t, "li consulting", li, consult, []float64{toneThird}, []float64{toneCaller})
	expectHeard(t, "wang consulted", wang, consult, []float64{toneAgent}, []float64{toneCaller})
	expectHeard(t, "caller on hold", caller, consult, nil, []float64{toneAgent, toneThird})
	expectHeard(t, "caller after the transfer", caller, after, []float64{toneThird}, []float64{toneAgent})
	expectHeard(t, "wang after the transfer", wang, after, []float64{toneCaller}, []float64{toneAgent})
	c := h.callRecord(callID)
	if c.State != callcenter.Transferred || c.Agent != "li" || c.LastAgent != "wang" || c.Target != "agent:wang" || c.HoldSeconds < 1 || c.HoldStarted != nil {
		t.Fatalf("record: %+v", c)
	}
	for _, name := range []string{"li", "wang"} {
		h.expectState(name, callcenter.Ready)
	}
	h.stop()
	li.close()
	wang.close()
	caller.close()
	noLeaks(t, base, sockets)
}

// TestAttendedTransferCancelled: li consults wang, then cancels: wang is
// hung up and ready again, caller and li hear each other again, wang never
// heard the caller.
func TestAttendedTransferCancelled(t *testing.T) {
	needSipp(t)
	base, sockets := runtime.NumGoroutine(), openSockets()
	h := startEngine(t, callcenter.Options{}, Config{})
	h.accounts("li", "wang")
	liDir, li := h.party("agent_hungup.xml", toneAgent, 20)
	wangDir, wang := h.party("agent_hungup.xml", toneThird, 20)
	callerDir, caller := h.party("caller_hangup.xml", toneCaller, 20)
	liPort, wangPort := freePort(t), freePort(t)
	waitLi := h.phoneIn(liDir, "agent_hungup.xml", liPort, 1, 0)
	waitWang := h.phoneIn(wangDir, "agent_hungup.xml", wangPort, 1, 0)
	time.Sleep(300 * time.Millisecond)
	if _, err := h.svc.AgentDo("wang", callcenter.ActNotReady, "会议"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("li", "secret-li", liPort, "200"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("wang", "secret-wang", wangPort, "200"); err != nil {
		t.Fatal(err)
	}
	callerDone := make(chan error, 1)
	go func() { callerDone <- h.callerIn(callerDir, "13600000002", 8*time.Second) }()
	callID, ctl := h.talking("li")
	if _, err := h.svc.AgentDo("wang", callcenter.ActReady, ""); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Consult("agent:wang"); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	time.Sleep(1200 * time.Millisecond)
	t2 := time.Now()
	if err := ctl.CancelConsult(); err != nil {
		t.Fatal(err)
	}
	t3 := time.Now()
	if err := waitWang(); err != nil { // wang got the BYE
		t.Fatal(err)
	}
	h.expectState("wang", callcenter.Ready)
	if a := h.svc.Agent("li"); a.State != callcenter.Talking || a.CallID != callID {
		t.Fatalf("li after the cancel: %+v", a)
	}
	time.Sleep(1500 * time.Millisecond)
	t4 := time.Now()
	if err := <-callerDone; err != nil {
		t.Fatal(err)
	}
	if err := waitLi(); err != nil {
		t.Fatal(err)
	}
	consult, back := phase(t1, t2), phase(t3, t4)
	expectHeard(t, "li consulting", li, consult, []float64{toneThird}, []float64{toneCaller})
	expectHeard(t, "caller on hold", caller, consult, nil, []float64{toneAgent, toneThird})
	expectHeard(t, "li after the cancel", li, back, []float64{toneCaller}, []float64{toneThird})
	expectHeard(t, "caller after the cancel", caller, back, []float64{toneAgent}, []float64{toneThird})
	if n := wang.heard(t1.Add(-time.Hour), time.Now(), toneCaller); n > 2 {
		t.Errorf("wang heard the caller in %d frames", n)
	}
	c := h.callRecord(callID)
	if c.State != callcenter.Answered || c.Agent != "li" || c.LastAgent != "li" || c.Target != "" || c.HoldSeconds < 1 {
		t.Fatalf("record: %+v", c)
	}
	h.stop()
	li.close()
	wang.close()
	caller.close()
	noLeaks(t, base, sockets)
}

// TestConsultNotAnswered: wang's phone rings out, then the department
// reached through the trunk refuses (486): each time the consultation
// fails and the caller is back with li, hearing her.
func TestConsultNotAnswered(t *testing.T) {
	needSipp(t)
	base, sockets := runtime.NumGoroutine(), openSockets()
	trunkPort := freePort(t)
	h := startEngine(t, callcenter.Options{RingTimeout: time.Second}, Config{Trunk: fmt.Sprintf("127.0.0.1:%d", trunkPort)})
	h.accounts("li", "wang")
	liDir, li := h.party("agent_hungup.xml", toneAgent, 20)
	callerDir, caller := h.party("caller_hangup.xml", toneCaller, 20)
	liPort, wangPort := freePort(t), freePort(t)
	waitLi := h.phoneIn(liDir, "agent_hungup.xml", liPort, 1, 0)
	waitWang := h.phone("agent_noanswer.xml", wangPort, 1, 0)
	waitTrunk := h.phone("agent_busy.xml", trunkPort, 1, 0)
	time.Sleep(300 * time.Millisecond)
	if _, err := h.svc.AgentDo("wang", callcenter.ActNotReady, "会议"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("li", "secret-li", liPort, "200"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("wang", "secret-wang", wangPort, "200"); err != nil {
		t.Fatal(err)
	}
	callerDone := make(chan error, 1)
	go func() { callerDone <- h.callerIn(callerDir, "13600000003", 8*time.Second) }()
	callID, ctl := h.talking("li")
	if _, err := h.svc.AgentDo("wang", callcenter.ActReady, ""); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Consult("agent:wang"); err == nil {
		t.Fatal("consultation with a phone that never answers succeeded")
	}
	if err := waitWang(); err != nil { // rang, was cancelled
		t.Fatal(err)
	}
	h.expectState("wang", callcenter.Ready)
	if err := ctl.Consult("12333"); err == nil {
		t.Fatal("consultation refused with 486 succeeded")
	}
	if err := waitTrunk(); err != nil {
		t.Fatal(err)
	}
	t3 := time.Now()
	if a := h.svc.Agent("li"); a.State != callcenter.Talking || a.CallID != callID {
		t.Fatalf("li after the failed consultations: %+v", a)
	}
	time.Sleep(1500 * time.Millisecond)
	t4 := time.Now()
	if err := <-callerDone; err != nil {
		t.Fatal(err)
	}
	if err := waitLi(); err != nil {
		t.Fatal(err)
	}
	back := phase(t3, t4)
	expectHeard(t, "li afterwards", li, back, []float64{toneCaller}, nil)
	expectHeard(t, "caller afterwards", caller, back, []float64{toneAgent}, nil)
	c := h.callRecord(callID)
	if c.State != callcenter.Answered || c.Agent != "li" || c.LastAgent != "li" || c.HoldSeconds < 1 || c.HoldStarted != nil {
		t.Fatalf("record: %+v", c)
	}
	h.stop()
	li.close()
	caller.close()
	noLeaks(t, base, sockets)
}

// TestTransferToQueue: li (general queue) sends the caller to the english
// queue, where zhang (english only) is busy: the call waits there; when
// zhang is ready she is rung, answers, talks and hangs up; the caller
// rates 5. The record: transferred to queue:english, agent li, last agent
// zhang.
func TestTransferToQueue(t *testing.T) {
	needSipp(t)
	base, sockets := runtime.NumGoroutine(), openSockets()
	h := startEngine(t, callcenter.Options{Queues: []callcenter.Queue{{Name: "general", Title: "普通话坐席"}, {Name: "english", Title: "英语坐席"}}}, Config{})
	h.accounts("li", "zhang")
	if err := h.svc.SetSkills("li", []string{"general"}); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.SetSkills("zhang", []string{"english"}); err != nil {
		t.Fatal(err)
	}
	liPort, zhangPort := freePort(t), freePort(t)
	waitLi := h.phone("agent_hungup.xml", liPort, 1, 0)
	waitZhang := h.phone("agent_answer.xml", zhangPort, 1, time.Second)
	time.Sleep(300 * time.Millisecond)
	if _, err := h.svc.AgentDo("zhang", callcenter.ActNotReady, "会议"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("li", "secret-li", liPort, "200"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("zhang", "secret-zhang", zhangPort, "200"); err != nil {
		t.Fatal(err)
	}
	callerDone := make(chan error, 1)
	go func() { callerDone <- h.caller("13600000004", '5', 0) }()
	callID, ctl := h.talking("li")
	if err := ctl.Transfer("queue:nosuch"); err == nil {
		t.Fatal("transfer to a queue that does not exist accepted")
	}
	if err := ctl.Transfer("queue:english"); err != nil {
		t.Fatal(err)
	}
	if err := waitLi(); err != nil { // li got the BYE
		t.Fatal(err)
	}
	h.expectState("li", callcenter.Ready)
	// The caller waits in the english queue (li, general only, is not
	// offered it).
	var waiting bool
	for i := 0; i < 50 && !waiting; i++ {
		l, err := h.svc.Live(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range l.Calls {
			waiting = waiting || (w.CallID == callID && w.Queue == "english" && w.Offered == "")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !waiting {
		t.Fatal("the call never waited in the english queue")
	}
	if a := h.svc.Agent("li"); a.State != callcenter.Ready {
		t.Fatalf("li was offered the english call: %+v", a)
	}
	if _, err := h.svc.AgentDo("zhang", callcenter.ActReady, ""); err != nil {
		t.Fatal(err)
	}
	if err := waitZhang(); err != nil {
		t.Fatal(err)
	}
	if err := <-callerDone; err != nil {
		t.Fatal(err)
	}
	var c *callcenter.Call
	for i := 0; i < 50; i++ {
		if c = h.callRecord(callID); c.Satisfaction != 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.State != callcenter.Transferred || c.Target != "queue:english" || c.Agent != "li" || c.LastAgent != "zhang" || c.Satisfaction != 5 {
		t.Fatalf("record: %+v", c)
	}
	for _, name := range []string{"li", "zhang"} {
		h.expectState(name, callcenter.Ready)
	}
	h.stop()
	noLeaks(t, base, sockets)
}

// wavChannels reads a stereo 16-bit WAV into its two channels.
func wavChannels(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 44 || string(b[:4]) != "RIFF" || binary.LittleEndian.Uint16(b[22:]) != 2 {
		t.Fatalf("recording %s: %d bytes, %v", path, len(b), err)
	}
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:]))
		if id == "data" {
			d := b[i+8 : min(len(b), i+8+size)]
			for j := 0; j+4 <= len(d); j += 4 {
				left = append(left, int16(binary.LittleEndian.Uint16(d[j:])))
				right = append(right, int16(binary.LittleEndian.Uint16(d[j+2:])))
			}
			return left, right
		}
		i += 8 + size + size%2
	}
	t.Fatal("recording without data")
	return nil, nil
}

// framesWith counts the 20 ms frames of pcm that carry freq.
func framesWith(pcm []int16, freq float64) int {
	n := 0
	for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
		if toneLevel(pcm[i:i+frameSamples], freq) >= 800 {
			n++
		}
	}
	return n
}

// TestThreeWayCall: li adds wang: caller, li and wang each hear the two
// others (and not themselves); li drops wang and the two-way call goes
// on; then li adds the department at 12333 through the trunk, which
// hangs up by itself. The recording has the caller on the left and li and
// wang mixed on the right; the record says three-way with agent:wang.
func TestThreeWayCall(t *testing.T) {
	needSipp(t)
	base, sockets := runtime.NumGoroutine(), openSockets()
	trunkPort := freePort(t)
	h := startEngine(t, callcenter.Options{}, Config{Trunk: fmt.Sprintf("127.0.0.1:%d", trunkPort)})
	h.accounts("li", "wang")
	liDir, li := h.party("agent_hungup.xml", toneAgent, 20)
	wangDir, wang := h.party("agent_hungup.xml", toneThird, 20)
	trunkDir, trunk := h.party("agent_answer.xml", toneThird, 20)
	callerDir, caller := h.party("caller_hangup.xml", toneCaller, 20)
	liPort, wangPort := freePort(t), freePort(t)
	waitLi := h.phoneIn(liDir, "agent_hungup.xml", liPort, 1, 0)
	waitWang := h.phoneIn(wangDir, "agent_hungup.xml", wangPort, 1, 0)
	waitTrunk := h.phoneIn(trunkDir, "agent_answer.xml", trunkPort, 1, 1500*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	if _, err := h.svc.AgentDo("wang", callcenter.ActNotReady, "会议"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("li", "secret-li", liPort, "200"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("wang", "secret-wang", wangPort, "200"); err != nil {
		t.Fatal(err)
	}
	callerDone := make(chan error, 1)
	go func() { callerDone <- h.callerIn(callerDir, "13600000005", 12*time.Second) }()
	callID, ctl := h.talking("li")
	if err := ctl.DropConference(); err == nil {
		t.Fatal("drop without a three-way call accepted")
	}
	if _, err := h.svc.AgentDo("wang", callcenter.ActReady, ""); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Conference("agent:wang"); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	if a := h.svc.Agent("wang"); a.State != callcenter.Talking || a.CallID != callID {
		t.Fatalf("wang in the three-way call: %+v", a)
	}
	if err := ctl.Consult("12333"); err == nil {
		t.Fatal("consultation during a three-way call accepted")
	}
	time.Sleep(2 * time.Second)
	t2 := time.Now()
	if err := ctl.DropConference(); err != nil {
		t.Fatal(err)
	}
	t3 := time.Now()
	if err := waitWang(); err != nil { // wang got the BYE
		t.Fatal(err)
	}
	h.expectState("wang", callcenter.Ready)
	time.Sleep(1200 * time.Millisecond)
	t4 := time.Now()
	// The department joins, speaks and hangs up by itself.
	if err := ctl.Conference("12333"); err != nil {
		t.Fatal(err)
	}
	t5 := time.Now()
	if err := waitTrunk(); err != nil {
		t.Fatal(err)
	}
	t6 := time.Now()
	if a := h.svc.Agent("li"); a.State != callcenter.Talking || a.CallID != callID {
		t.Fatalf("li after the department left: %+v", a)
	}
	time.Sleep(1200 * time.Millisecond)
	t7 := time.Now()
	if err := <-callerDone; err != nil {
		t.Fatal(err)
	}
	if err := waitLi(); err != nil {
		t.Fatal(err)
	}
	three, two, dept, again := phase(t1, t2), phase(t3, t4), phase(t5, t6), phase(t6, t7)
	expectHeard(t, "caller three-way", caller, three, []float64{toneAgent, toneThird}, []float64{toneCaller})
	expectHeard(t, "li three-way", li, three, []float64{toneCaller, toneThird}, []float64{toneAgent})
	expectHeard(t, "wang three-way", wang, three, []float64{toneCaller, toneAgent}, []float64{toneThird})
	expectHeard(t, "caller after the drop", caller, two, []float64{toneAgent}, []float64{toneThird})
	expectHeard(t, "li after the drop", li, two, []float64{toneCaller}, []float64{toneThird})
	expectHeard(t, "department three-way", trunk, dept, []float64{toneCaller, toneAgent}, []float64{toneThird})
	expectHeard(t, "caller with the department", caller, dept, []float64{toneAgent, toneThird}, nil)
	expectHeard(t, "caller after the department left", caller, again, []float64{toneAgent}, []float64{toneThird})
	c := h.callRecord(callID)
	if c.State != callcenter.Answered || c.Agent != "li" || c.LastAgent != "li" || c.Conference != "12333" || c.ConferenceSeconds < 2 || c.ConferenceStarted != nil {
		t.Fatalf("record: %+v", c)
	}
	left, right := wavChannels(t, filepath.Join(h.svc.RecordingsDir(), c.Recording))
	if n := framesWith(left, toneCaller); n < 100 {
		t.Errorf("recording: caller's tone in %d frames of the left channel", n)
	}
	if n := framesWith(right, toneThird); n < 50 {
		t.Errorf("recording: the third party's tone in %d frames of the right channel", n)
	}
	if n := framesWith(right, toneAgent); n < 100 {
		t.Errorf("recording: li's tone in %d frames of the right channel", n)
	}
	h.stop()
	for _, s := range []*rtpSink{li, wang, trunk, caller} {
		s.close()
	}
	noLeaks(t, base, sockets)
}

// TestThreeWayAgentLeaves: li adds wang and hangs up: the caller goes on
// with wang (as after a transfer), li starts wrap-up.
func TestThreeWayAgentLeaves(t *testing.T) {
	needSipp(t)
	base, sockets := runtime.NumGoroutine(), openSockets()
	h := startEngine(t, callcenter.Options{}, Config{})
	h.accounts("li", "wang")
	liDir, li := h.party("agent_answer.xml", toneAgent, 20)
	wangDir, wang := h.party("agent_hungup.xml", toneThird, 20)
	callerDir, caller := h.party("caller_hangup.xml", toneCaller, 20)
	liPort, wangPort := freePort(t), freePort(t)
	waitLi := h.phoneIn(liDir, "agent_answer.xml", liPort, 1, 4*time.Second)
	waitWang := h.phoneIn(wangDir, "agent_hungup.xml", wangPort, 1, 0)
	time.Sleep(300 * time.Millisecond)
	if _, err := h.svc.AgentDo("wang", callcenter.ActNotReady, "会议"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("li", "secret-li", liPort, "200"); err != nil {
		t.Fatal(err)
	}
	if err := h.register("wang", "secret-wang", wangPort, "200"); err != nil {
		t.Fatal(err)
	}
	callerDone := make(chan error, 1)
	go func() { callerDone <- h.callerIn(callerDir, "13600000006", 9*time.Second) }()
	callID, ctl := h.talking("li")
	if _, err := h.svc.AgentDo("wang", callcenter.ActReady, ""); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Conference("agent:wang"); err != nil {
		t.Fatal(err)
	}
	if err := waitLi(); err != nil { // li hangs up after 4 s
		t.Fatal(err)
	}
	t1 := time.Now()
	h.expectState("li", callcenter.Ready)
	if a := h.svc.Agent("wang"); a.State != callcenter.Talking || a.CallID != callID {
		t.Fatalf("wang after li left: %+v", a)
	}
	time.Sleep(1500 * time.Millisecond)
	t2 := time.Now()
	if err := <-callerDone; err != nil {
		t.Fatal(err)
	}
	if err := waitWang(); err != nil {
		t.Fatal(err)
	}
	after := phase(t1, t2)
	expectHeard(t, "caller with wang", caller, after, []float64{toneThird}, []float64{toneAgent})
	expectHeard(t, "wang with the caller", wang, after, []float64{toneCaller}, []float64{toneAgent})
	c := h.callRecord(callID)
	if c.State != callcenter.Transferred || c.Agent != "li" || c.LastAgent != "wang" || c.Target != "agent:wang" || c.Conference != "agent:wang" || c.ConferenceSeconds < 1 {
		t.Fatalf("record: %+v", c)
	}
	h.expectState("wang", callcenter.Ready)
	h.stop()
	for _, s := range []*rtpSink{li, wang, caller} {
		s.close()
	}
	noLeaks(t, base, sockets)
}
