package perception

import (
	"math"
	"strconv"
	"time"
)

// Payloads of the original SOMS perception topics.

// OccupancyMsg is office/{zone}/occupancy.
type OccupancyMsg struct {
	Zone        string  `json:"zone"`
	Occupied    bool    `json:"occupied"`
	PersonCount int     `json:"person_count"`
	Timestamp   float64 `json:"timestamp"`
}

// ActivityMsg is office/{zone}/activity.
type ActivityMsg struct {
	Zone               string      `json:"zone"`
	PersonCount        int         `json:"person_count"`
	ActivityLevel      float64     `json:"activity_level"`
	ActivityClass      string      `json:"activity_class"`
	PostureDurationSec float64     `json:"posture_duration_sec"`
	PostureStatus      string      `json:"posture_status"`
	BufferDepth        BufferDepth `json:"buffer_depth"`
	Timestamp          float64     `json:"timestamp"`
}

// BufferDepth counts the entries in each tier of the posture buffer.
type BufferDepth struct {
	Raw   int `json:"raw"`
	Tier1 int `json:"tier1"`
	Tier2 int `json:"tier2"`
	Tier3 int `json:"tier3"`
}

// SpatialMsg is office/{zone}/spatial/{camera_id}.
type SpatialMsg struct {
	Zone      string          `json:"zone"`
	CameraID  string          `json:"camera_id"`
	Timestamp float64         `json:"timestamp"`
	ImageSize [2]int          `json:"image_size"`
	Persons   []SpatialPerson `json:"persons"`
	Objects   []SpatialObject `json:"objects,omitempty"`
}

// SpatialPerson is one person in a spatial message. A pose model adds the
// original pose item's keypoints (17 × [x, y] frame pixels) and keypoint_conf
// (17 visibilities), and the posture read from them; with a detect model the
// fields are absent and the payload is exactly the original's.
type SpatialPerson struct {
	CenterPx     [2]float64   `json:"center_px"`
	BBoxPx       [4]float64   `json:"bbox_px"`
	Confidence   float64      `json:"confidence"`
	Keypoints    [][2]float64 `json:"keypoints,omitempty"`
	KeypointConf []float64    `json:"keypoint_conf,omitempty"`
	Posture      string       `json:"posture,omitempty"`
}

// SpatialObject is one non-person detection in a spatial message.
type SpatialObject struct {
	ClassName  string     `json:"class_name"`
	CenterPx   [2]float64 `json:"center_px"`
	BBoxPx     [4]float64 `json:"bbox_px"`
	Confidence float64    `json:"confidence"`
}

// FallMsg is office/{zone}/safety/fall.
type FallMsg struct {
	Zone        string     `json:"zone"`
	Confidence  float64    `json:"confidence"`
	DurationSec float64    `json:"duration_sec"`
	BBox        [4]float64 `json:"bbox"`
	TrackerID   string     `json:"tracker_id"`
	Timestamp   float64    `json:"timestamp"`
}

// Timestamp is the original's time.time(): seconds since the epoch.
func Timestamp(t time.Time) float64 { return round(float64(t.UnixNano())/1e9, 3) }

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// Occupancy builds the occupancy message for one analysed frame.
func Occupancy(zone string, r Result, now time.Time) OccupancyMsg {
	n := len(r.Persons)
	return OccupancyMsg{Zone: zone, Occupied: n > 0, PersonCount: n, Timestamp: Timestamp(now)}
}

// Spatial builds the spatial message; objects are included only when asked
// (the activity monitor does, the occupancy monitor does not).
func Spatial(zone, camera string, r Result, withObjects bool, now time.Time) SpatialMsg {
	m := SpatialMsg{Zone: zone, CameraID: camera, Timestamp: Timestamp(now), ImageSize: [2]int{r.Width, r.Height}, Persons: []SpatialPerson{}}
	for _, p := range r.Persons {
		cx, cy := p.Box.Center()
		sp := SpatialPerson{CenterPx: [2]float64{round(cx, 1), round(cy, 1)}, BBoxPx: bbox(p.Box), Confidence: round(p.Confidence, 3)}
		if len(p.Keypoints) > 0 {
			for _, k := range p.Keypoints {
				sp.Keypoints = append(sp.Keypoints, [2]float64{round(k.X, 1), round(k.Y, 1)})
				sp.KeypointConf = append(sp.KeypointConf, round(k.Conf, 3))
			}
			sp.Posture, _ = Posture(p.Keypoints)
		}
		m.Persons = append(m.Persons, sp)
	}
	if withObjects {
		m.Objects = []SpatialObject{}
		for _, o := range r.Objects {
			cx, cy := o.Box.Center()
			m.Objects = append(m.Objects, SpatialObject{ClassName: ClassName(o.Class), CenterPx: [2]float64{round(cx, 1), round(cy, 1)}, BBoxPx: bbox(o.Box), Confidence: round(o.Confidence, 3)})
		}
	}
	return m
}

func bbox(b Box) [4]float64 {
	return [4]float64{round(b.X1, 1), round(b.Y1, 1), round(b.X2, 1), round(b.Y2, 1)}
}

// cocoNames are the 80 class names of a COCO-trained YOLO export.
var cocoNames = [...]string{"person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
	"traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep",
	"cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
	"skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
	"tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
	"orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed",
	"dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
	"toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush"}

// ClassName is the COCO name of a class id (class<N> beyond COCO).
func ClassName(c int) string {
	if c >= 0 && c < len(cocoNames) {
		return cocoNames[c]
	}
	return "class" + strconv.Itoa(c)
}

// furnitureClasses are COCO classes a person may lie or sit on without having
// fallen: bench, chair, couch, bed.
var furnitureClasses = map[int]bool{13: true, 56: true, 57: true, 59: true}
