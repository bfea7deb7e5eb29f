package harness

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/localinfra"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/mqttacl"
)

// Config is `soms sim`'s environment; see `soms env sim`.
type Config struct {
	Log        logging.Config
	Speed      float64 `env:"SOMS_SIM_SPEED" default:"10" doc:"simulated seconds per wall second (0 = paused)"`
	Start      string  `env:"SOMS_SIM_START" doc:"simulated start time, RFC 3339 (default: today 09:00 in SOMS_SIM_TZ)"`
	TZ         string  `env:"SOMS_SIM_TZ" default:"Asia/Tokyo" doc:"office time zone for the default start time"`
	DataDir    string  `env:"SOMS_SIM_DATA_DIR" doc:"keep broker and database state here between runs (default: a temporary directory)"`
	Layout     string  `env:"SOMS_SIM_LAYOUT" default:"builtin:meeting" doc:"office layout for the virtual edge (builtin:office, builtin:meeting, or a JSON file)"`
	Seed       uint64  `env:"SOMS_SIM_SEED" default:"1" doc:"seed for reproducible sensor noise"`
	FixedPorts bool    `env:"SOMS_SIM_FIXED_PORTS" default:"true" doc:"use the well-known ports (MQTT 1883, backend 8000, ...) when free"`
	Cameras    bool    `env:"SOMS_SIM_CAMERAS" default:"true" doc:"run the virtual cameras (mediamtx, RTSP, H.264 through ffmpeg) and the perception service"`
	CameraHLS  bool    `env:"SOMS_SIM_CAMERA_HLS" default:"true" doc:"also serve the cameras' H.264 streams over HLS for the dashboard's live view (mediamtx remuxes them; no transcoder)"`

	// Broker credentials, so real devices can join (docs/simulator.md,
	// "Hardware in the loop").
	MQTTListen      string `env:"SOMS_SIM_MQTT_LISTEN" default:"127.0.0.1" doc:"broker listen address: 127.0.0.1 (this machine) or 0.0.0.0 (every interface, for real devices on the network)"`
	MQTTPass        string `env:"SOMS_SIM_MQTT_PASS" default:"soms_dev_mqtt" doc:"password of the legacy device account soms (the original firmware's fixed credential, confined to device topics); the default is the original SOMS firmware's, so a device flashed with it joins"`
	MQTTDevices     string `env:"SOMS_SIM_MQTT_DEVICES" doc:"device accounts for real devices with their own credentials, as id:password or id:password:leaf+leaf (swarm hubs), comma-separated (docs/mqtt-acl.md); the virtual devices get theirs with random passwords"`
	MQTTSimPass     string `env:"SOMS_SIM_MQTT_SIM_PASS" doc:"password of the broker account sim (simulator control: the only writer of the simulated clock and scenes, may inject office messages; never device commands); empty: random per run"`
	MQTTMonitorPass string `env:"SOMS_SIM_MQTT_MONITOR_PASS" doc:"password of the read-only broker account monitor; empty: random per run"`
}

// StartTime resolves the configured simulated start.
func (c Config) StartTime(now time.Time) (time.Time, error) {
	if c.Start != "" {
		t, err := time.Parse(time.RFC3339, c.Start)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOMS_SIM_START: %w", err)
		}
		return t, nil
	}
	loc, err := time.LoadLocation(c.TZ)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOMS_SIM_TZ: %w", err)
	}
	n := now.In(loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 9, 0, 0, 0, loc), nil
}

// RunSim runs the virtual office until ctx is cancelled, printing the URLs and
// every task the brain creates.
func RunSim(ctx context.Context, cfg Config, out io.Writer) error {
	start, err := cfg.StartTime(time.Now())
	if err != nil {
		return err
	}
	devices, err := mqttacl.ParseDevices(cfg.MQTTDevices)
	if err != nil {
		return fmt.Errorf("SOMS_SIM_MQTT_DEVICES: %w", err)
	}
	began := time.Now()
	fmt.Fprintln(out, "soms sim: starting Mosquitto, PostgreSQL and the services ...")
	s, err := Start(ctx, Options{
		Dir: cfg.DataDir, Speed: cfg.Speed, Start: start, Layout: cfg.Layout, Seed: cfg.Seed,
		FixedPorts: cfg.FixedPorts, LogLevel: cfg.Log.Level, Output: out, Cameras: cfg.Cameras, CameraHLS: cfg.Cameras && cfg.CameraHLS,
		MQTTListen: cfg.MQTTListen, MQTTDevices: devices,
		MQTTPasswords: map[string]string{
			mqttacl.UserLegacy: cfg.MQTTPass, mqttacl.UserSim: cfg.MQTTSimPass, mqttacl.UserMonitor: cfg.MQTTMonitorPass,
		},
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "soms sim: stopping ...")
		if err := s.Stop(); err != nil {
			fmt.Fprintln(out, "soms sim: stop:", err)
		}
	}()
	fmt.Fprintf(out, `
SOMS virtual office is up (started in %.1fs)
  web dashboard   %s/
  dashboard API   %s/tasks/  (OpenAPI %s/docs)
  wallet          %s/docs  (services only; people read theirs at /api/wallet/ on the dashboard)
  brain           %s/world/zones
  mock LLM        %s/control/requests
  voice           %s/api/voice/  (engine %s/speakers)
  virtual edge    %s/zones
  sim clock       %s/clock
%s%s  PostgreSQL      %s
Simulated time starts %s at %gx. Press Ctrl-C to stop.

`, time.Since(began).Seconds(), s.URL(Frontend), s.URL(Backend), s.URL(Backend), s.URL(Wallet), s.URL(Brain), s.URL(MockLLM), s.URL(Voice), s.URL(VoicevoxSim), s.URL(Edge), s.URL(PortControl),
		cameraLines(s), mqttLines(s, cfg), s.DatabaseURL(),
		start.Format("2006-01-02 15:04 MST"), cfg.Speed)

	client := backendapi.NewClient(s.URL(Backend), "")
	seen := map[int64]bool{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.Failed():
			// Logged and restarted by the supervisor: the office goes on.
		case <-tick.C:
			tasks, err := client.ListTasks(ctx, backendapi.TaskFilter{Limit: 50})
			if err != nil {
				continue
			}
			sort.Slice(tasks, func(i, j int) bool { return tasks[i].ID < tasks[j].ID })
			for _, t := range tasks {
				if !seen[t.ID] {
					seen[t.ID] = true
					zone := "-"
					if t.Zone != nil {
						zone = *t.Zone
					}
					fmt.Fprintf(out, "\n>>> TASK #%d [%s] %s (urgency %d, %v) at sim %s\n\n",
						t.ID, zone, t.Title, t.Urgency, t.TaskType, t.CreatedAt.In(start.Location()).Format("15:04:05"))
				}
			}
		}
	}
}

// mqttLines prints the broker and the accounts a person or a real device
// uses: the legacy device account (the original firmware: user soms,
// password soms_dev_mqtt), the devices' own, sim and monitor. The services
// and virtual devices have accounts of their own with random passwords.
func mqttLines(s *Stack, cfg Config) string {
	port := s.Ports[PortMQTT]
	where := "this machine only (SOMS_SIM_MQTT_LISTEN=0.0.0.0 admits devices on the network)"
	if cfg.MQTTListen == localinfra.ListenAll {
		where = fmt.Sprintf("every interface: devices connect to this machine's address, port %d", port)
	}
	out := fmt.Sprintf("  MQTT            mqtt://127.0.0.1:%d  (%s)\n", port, where)
	legacy := "SOMS_SIM_MQTT_PASS"
	if s.broker.Password(mqttacl.UserLegacy) == mqttacl.LegacyPassword {
		legacy = "the original firmware's; SOMS_SIM_MQTT_PASS"
	}
	out += fmt.Sprintf("                  original-firmware devices: user %s, password %s  (%s)\n", mqttacl.UserLegacy, s.broker.Password(mqttacl.UserLegacy), legacy)
	if cfg.MQTTDevices != "" {
		out += "                  devices with their own accounts: SOMS_SIM_MQTT_DEVICES (user = device id)\n"
	}
	out += fmt.Sprintf("                  simulator: user %s, password %s; read-only: user %s, password %s\n",
		mqttacl.UserSim, s.broker.Password(mqttacl.UserSim), mqttacl.UserMonitor, s.broker.Password(mqttacl.UserMonitor))
	if cfg.MQTTListen == localinfra.ListenAll && cfg.Speed != 1 {
		out += "                  note: a real device reports in real time; run at SOMS_SIM_SPEED=1 when one joins\n"
	}
	return out
}

// cameraLines lists the camera URLs when the stack has cameras.
func cameraLines(s *Stack) string {
	if !s.opts.Cameras {
		return ""
	}
	return fmt.Sprintf("  cameras         %s/cameras  (RTSP rtsp://127.0.0.1:%d/cam_main, cam_meeting, cam_kitchen)\n  perception      %s/cameras\n",
		s.URL(Camera), s.Ports[PortRTSP], s.URL(Perception))
}
