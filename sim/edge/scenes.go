package edge

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/somsgo/soms/sim/scene"
)

// maxPeople bounds a zone's crowd.
const maxPeople = 500

// doorOpenFor is how long a door contact reads open after someone passes.
const doorOpenFor = 8 * time.Second

// setCountLocked adds generated people to, or removes the most recently added
// ones from, zone until it holds n people, then publishes the scene.
func (o *office) setCountLocked(zone string, n int) {
	sc := o.scene[zone]
	if len(sc.People) == n {
		o.sceneChangedLocked(zone)
		return
	}
	for len(sc.People) > n {
		sc.People = sc.People[:len(sc.People)-1]
	}
	for len(sc.People) < n {
		sc.People = append(sc.People, o.newPersonLocked(zone))
	}
	o.sceneChangedLocked(zone)
}

// newPersonLocked makes a seated, slightly moving person at a seeded spot.
func (o *office) newPersonLocked(zone string) scene.Person {
	o.nextID[zone]++
	r := o.peopleRn
	return scene.Person{
		ID:      zone + "-p" + strconv.Itoa(o.nextID[zone]),
		X:       round(0.1+0.8*r.Float64(), 3),
		Y:       round(0.2+0.7*r.Float64(), 3),
		Posture: scene.Sitting,
		Motion:  round(0.1+0.2*r.Float64(), 2),
	}
}

// sceneChangedLocked bumps the scene's sequence, syncs the zone's head count
// (which CO2, heat and presence follow), notes a door passage when the count
// changed, and queues the scene for publication.
func (o *office) sceneChangedLocked(zone string) {
	sc := o.scene[zone]
	z := o.zones[zone]
	if z.People != len(sc.People) {
		o.doorOpen[zone] = o.clock.Now().Add(doorOpenFor)
	}
	z.People = len(sc.People)
	o.sceneSeq++
	sc.Seq = o.sceneSeq
	cp := *sc
	cp.People = slices.Clone(sc.People)
	o.queued(1) // before the loop can take it
	select {
	case o.sceneOut <- cp:
	default:
		o.queued(-1)
		o.log.Warn("scene queue full; dropping an update", "zone", zone)
	}
	o.requestReport(zone)
}

func (o *office) publishAllScenes() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range o.order {
		o.sceneChangedLocked(id)
	}
}

// republishScenes queues every zone's scene again as it is (same sequence
// number): a broker that crashed may have lost the retained copies.
func (o *office) republishScenes() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range o.order {
		cp := *o.scene[id]
		cp.People = slices.Clone(cp.People)
		o.queued(1)
		select {
		case o.sceneOut <- cp:
		default:
			o.queued(-1)
			o.log.Warn("scene queue full; not republishing", "zone", id)
		}
	}
}

// drainScenes publishes every queued scene.
func (o *office) drainScenes(ctx context.Context) {
	for {
		select {
		case sc := <-o.sceneOut:
			o.publishScene(ctx, sc)
			o.queued(-1)
		default:
			return
		}
	}
}

func (o *office) publishScene(ctx context.Context, sc scene.Zone) {
	if o.scenes == nil {
		return
	}
	if err := o.scenes.PublishJSON(ctx, scene.Topic(sc.Zone), 1, true, sc); err != nil {
		o.log.Warn("scene not published", "zone", sc.Zone, "err", err)
	}
}

// replaceScene sets a zone's people (PUT /zones/{id}/scene).
func (o *office) replaceScene(zone string, people []scene.Person, furniture []scene.Item) (scene.Zone, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	sc, ok := o.scene[zone]
	if !ok {
		return scene.Zone{}, errNotFound
	}
	if people == nil {
		people = []scene.Person{}
	}
	next := scene.Zone{Zone: zone, People: people, Furniture: sc.Furniture}
	if furniture != nil {
		next.Furniture = furniture
	}
	if len(people) > maxPeople {
		return scene.Zone{}, fmt.Errorf("at most %d people", maxPeople)
	}
	if err := next.Validate(); err != nil {
		return scene.Zone{}, err
	}
	sc.People, sc.Furniture = people, next.Furniture
	o.zones[zone].Furniture = next.Furniture
	o.sceneChangedLocked(zone)
	return *sc, nil
}

// addPerson adds one person (POST /zones/{id}/people); missing id, position
// or posture are generated.
func (o *office) addPerson(zone string, p scene.Person) (scene.Person, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	sc, ok := o.scene[zone]
	if !ok {
		return scene.Person{}, errNotFound
	}
	gen := o.newPersonLocked(zone)
	if p.ID == "" {
		p.ID = gen.ID
	}
	if p.Posture == "" {
		p.Posture = gen.Posture
	}
	if p.X == 0 && p.Y == 0 {
		p.X, p.Y = gen.X, gen.Y
	}
	if len(sc.People) >= maxPeople {
		return scene.Person{}, fmt.Errorf("at most %d people", maxPeople)
	}
	next := scene.Zone{Zone: zone, People: append(slices.Clone(sc.People), p)}
	if err := next.Validate(); err != nil {
		return scene.Person{}, err
	}
	sc.People = next.People
	o.sceneChangedLocked(zone)
	return p, nil
}

// patchPerson changes one person (posture, position, motion).
func (o *office) patchPerson(zone, id string, patch PersonPatch) (scene.Person, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	sc, ok := o.scene[zone]
	if !ok {
		return scene.Person{}, errNotFound
	}
	i := slices.IndexFunc(sc.People, func(p scene.Person) bool { return p.ID == id })
	if i < 0 {
		return scene.Person{}, errNotFound
	}
	people := slices.Clone(sc.People)
	p := &people[i]
	if patch.Posture != nil {
		p.Posture = *patch.Posture
		if p.Posture == scene.Fallen {
			p.Motion = 0
		}
	}
	if patch.X != nil {
		p.X = *patch.X
	}
	if patch.Y != nil {
		p.Y = *patch.Y
	}
	if patch.Motion != nil {
		p.Motion = *patch.Motion
	}
	if err := (scene.Zone{Zone: zone, People: people}).Validate(); err != nil {
		return scene.Person{}, err
	}
	sc.People = people
	o.sceneChangedLocked(zone)
	return people[i], nil
}

// removePerson takes one person out of a zone.
func (o *office) removePerson(zone, id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	sc, ok := o.scene[zone]
	if !ok {
		return errNotFound
	}
	i := slices.IndexFunc(sc.People, func(p scene.Person) bool { return p.ID == id })
	if i < 0 {
		return errNotFound
	}
	sc.People = slices.Delete(slices.Clone(sc.People), i, i+1)
	o.sceneChangedLocked(zone)
	return nil
}

// motionLocked is the chance a PIR sees movement in zone during one report:
// people moving briskly trip it almost surely, still or fallen people rarely.
func (o *office) motionLocked(zone string) float64 {
	sum := 0.0
	for _, p := range o.scene[zone].People {
		sum += p.Motion
	}
	return clamp(sum*2, 0, 1)
}
