package probes

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// queueDiagMsg builds an inet_diag_msg for inode with the queues and, when info is not nil,
// an INET_DIAG_INFO attribute holding it.
func queueDiagMsg(inode uint32, state uint8, rq, wq uint32, info []byte) []byte {
	ne := binary.NativeEndian
	m := make([]byte, inetDiagMsgLen)
	m[0], m[1] = 2, state
	ne.PutUint32(m[56:60], rq)
	ne.PutUint32(m[60:64], wq)
	ne.PutUint32(m[68:72], inode)
	if info != nil {
		a := make([]byte, 4+len(info))
		ne.PutUint16(a[0:2], uint16(len(a)))
		ne.PutUint16(a[2:4], inetDiagInfo)
		copy(a[4:], info)
		for len(a)%4 != 0 {
			a = append(a, 0)
		}
		m = append(m, a...)
	}
	return m
}

func TestParseTCPQueueMsg(t *testing.T) {
	ne := binary.NativeEndian
	info := make([]byte, 232)
	ne.PutUint64(info[tcpInfoBytesAckedOffset:], 1000)
	ne.PutUint64(info[tcpInfoBytesReceivedOffset:], 70000)
	ne.PutUint32(info[tcpInfoLastDataRecvOffset:], 4200)

	q, ok, err := parseTCPQueueMsg(queueDiagMsg(42, 8, 65536, 0, info), nil)
	if err != nil || !ok {
		t.Fatalf("ok %v err %v", ok, err)
	}
	if q.LastDataRecvMS == nil || *q.LastDataRecvMS != 4200 {
		t.Errorf("last data received: %v, want 4200 ms", q.LastDataRecvMS)
	}
	// Too short to reach tcpi_last_data_recv: nil, not 0.
	if q, _, _ := parseTCPQueueMsg(queueDiagMsg(48, 1, 0, 0, make([]byte, tcpInfoLastDataRecvOffset)), nil); q.LastDataRecvMS != nil {
		t.Errorf("truncated info gave last data received %d", *q.LastDataRecvMS)
	}
	if q.Inode != 42 || q.State != "CLOSE_WAIT" || q.RxQueue != 65536 || q.BytesReceived == nil || *q.BytesReceived != 70000 || *q.BytesAcked != 1000 {
		t.Errorf("got %+v", q)
	}
	// A short tcp_info (kernel before 4.1): no counters, no error.
	q, ok, err = parseTCPQueueMsg(queueDiagMsg(43, 1, 1, 2, make([]byte, 104)), nil)
	if err != nil || !ok || q.BytesReceived != nil || q.TxQueue != 2 {
		t.Errorf("short info: %+v %v %v", q, ok, err)
	}
	// No attribute at all.
	if q, _, err := parseTCPQueueMsg(queueDiagMsg(44, 1, 0, 0, nil), nil); err != nil || q.BytesAcked != nil {
		t.Errorf("no attribute: %+v %v", q, err)
	}
	// Rejected by want: nothing parsed.
	if _, ok, _ := parseTCPQueueMsg(queueDiagMsg(45, 1, 0, 0, info), func(uint64) bool { return false }); ok {
		t.Error("want rejected the row but it was kept")
	}
	// Malformed: short message, attribute longer than the rest.
	if _, _, err := parseTCPQueueMsg(make([]byte, 10), nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("short message: %v", err)
	}
	bad := queueDiagMsg(46, 1, 0, 0, info)
	ne.PutUint16(bad[inetDiagMsgLen:], 0xffff)
	if _, _, err := parseTCPQueueMsg(bad, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("long attribute: %v", err)
	}
	bad = queueDiagMsg(47, 1, 0, 0, info)
	ne.PutUint16(bad[inetDiagMsgLen:], 2)
	if _, _, err := parseTCPQueueMsg(bad, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("attribute length below its header: %v", err)
	}
}

// TestReadTCPQueuesLive reads a loopback connection of this test process whose receive
// queue holds data nobody reads: sock_diag gives the queue and the counters, the /proc
// tables the queue alone.
func TestReadTCPQueuesLive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if _, err := server.Write(make([]byte, 3000)); err != nil {
		t.Fatal(err)
	}
	f, err := client.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	inode := fi.Sys().(*syscall.Stat_t).Ino
	fs := NewFS("/proc")
	want := func(ino uint64) bool { return ino == inode }
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, errs := fs.ReadTCPQueues(os.Getpid(), want)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if len(rows) == 1 && rows[0].RxQueue == 3000 {
			if rows[0].BytesReceived == nil || *rows[0].BytesReceived != 3000 {
				t.Errorf("sock_diag counters: %+v", rows[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows %+v: the 3000 bytes never showed in the receive queue", rows)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The /proc path (another namespace, or sock_diag refused) has the queue, no counters.
	var rows []TCPQueue
	fs.readSocketTable(os.Getpid(), socketTables[0], want, func(s Socket) {
		rows = append(rows, TCPQueue{Inode: s.Inode, RxQueue: s.RxQueue})
	})
	if len(rows) != 1 || rows[0].RxQueue != 3000 {
		t.Errorf("/proc rows %+v", rows)
	}
}

func FuzzParseTCPQueueMsg(f *testing.F) {
	f.Add(queueDiagMsg(1, 1, 2, 3, make([]byte, 232)))
	f.Add(queueDiagMsg(1, 8, 2, 3, nil))
	f.Fuzz(func(t *testing.T, m []byte) {
		q, ok, err := parseTCPQueueMsg(m, nil)
		if err == nil && !ok {
			t.Fatal("no error and no row without a want filter")
		}
		_ = q
	})
}

func TestParseInetTableZeroWindowProbe(t *testing.T) {
	in := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   6: 0100007F:B569 0100007F:CB64 01 0039DC00:00000000 04:00000144 00000000     0        0 142575 2 0000000014d67431 20 0 0 15 -1\n" +
		"  83: 0100007F:CB26 0100007F:B569 01 00000000:0001F400 00:00000000 00000000     0        0 142560 1 000000000b480ffd 20 8 0 10 -1\n" +
		"  84: 0100007F:CB27 0100007F:B569 01 00000000:0001F400 02:00000A1B 00000000     0        0 142561 1 000000000b480ffd 20 8 0 10 -1\n" +
		"  85: 0100007F:CB28 0100007F:B569 01 00000000:0001F400 zz:00000000 00000000     0        0 142562 1 000000000b480ffd 20 8 0 10 -1\n"
	var rows []Socket
	if err := parseInetTable(strings.NewReader(in), "tcp", false, nil, func(s Socket) { rows = append(rows, s) }); err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, false, false}
	if len(rows) != len(want) {
		t.Fatalf("%d rows", len(rows))
	}
	for i, r := range rows {
		if r.ZeroWindowProbe != want[i] {
			t.Errorf("row %d (inode %d): ZeroWindowProbe %v", i, r.Inode, r.ZeroWindowProbe)
		}
	}
	if rows[0].TxQueue != 0x39DC00 {
		t.Errorf("tx_queue %d", rows[0].TxQueue)
	}
}
