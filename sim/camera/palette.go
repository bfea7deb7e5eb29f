package camera

import "image/color"

// The palette is a contract with perception's generated test model
// (sim/modelgen): every colour a person is drawn in has
// R+B−2G well above 0.25 (channels as 0..1 fractions), every colour of the room
// well below it. A real YOLO export ignores this and sees human shapes.
var (
	colWall       = color.RGBA{222, 216, 200, 255}
	colFloor      = color.RGBA{170, 170, 165, 255}
	colSkirting   = color.RGBA{120, 118, 112, 255}
	colBoard      = color.RGBA{245, 245, 245, 255}
	colBoardFrame = color.RGBA{150, 150, 155, 255}
	colInkBlack   = color.RGBA{30, 30, 30, 255}
	colInkGreen   = color.RGBA{30, 120, 60, 255}
	colDesk       = color.RGBA{150, 110, 70, 255}
	colDeskLeg    = color.RGBA{90, 70, 50, 255}
	colChair      = color.RGBA{70, 75, 85, 255}
	colDoor       = color.RGBA{140, 100, 60, 255}
	colShadow     = color.RGBA{140, 140, 136, 255}

	colSkin     = color.RGBA{236, 160, 184, 255}
	colHair     = color.RGBA{90, 30, 80, 255}
	colTrousers = color.RGBA{95, 30, 105, 255}
	colShoes    = color.RGBA{70, 15, 70, 255}
	shirts      = []color.RGBA{
		{204, 40, 150, 255}, // magenta
		{150, 50, 210, 255}, // purple
		{215, 45, 110, 255}, // raspberry
		{190, 70, 200, 255}, // orchid
	}
)

// personKey is the colour key the generated model uses, for tests.
func personKey(c color.RGBA) float64 {
	return (float64(c.R) + float64(c.B) - 2*float64(c.G)) / 255
}
