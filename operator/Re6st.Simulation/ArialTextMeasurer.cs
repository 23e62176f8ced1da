using OxyPlot;

namespace Re6st.Simulation;

/// <summary>
/// Text sizes for OxyPlot's SVG export, from Arial/Liberation Sans advance widths (per 1000 em).
/// Without a measurer the exporter guesses too narrow and clips legends. Only measuring is
/// implemented: the exporter never draws through this context.
/// </summary>
internal sealed class ArialTextMeasurer : RenderContextBase
{
    public override OxySize MeasureText(string text, string fontFamily = "", double fontSize = 10, double fontWeight = 500)
    {
        if (string.IsNullOrEmpty(text))
        {
            return OxySize.Empty;
        }

        var lines = text.Split('\n');
        var widest = lines.Max(line => line.Sum(Advance));
        var bold = fontWeight >= 700 ? 1.07 : 1.0;
        return new OxySize(widest / 1000.0 * fontSize * bold, lines.Length * fontSize * 1.15);
    }

    public override int ClipCount => 0;

    public override void PopClip() => throw new NotSupportedException("measuring only");

    public override void DrawLine(IList<ScreenPoint> points, OxyColor stroke, double thickness, EdgeRenderingMode edgeRenderingMode, double[]? dashArray, LineJoin lineJoin) =>
        throw new NotSupportedException("measuring only");

    public override void DrawPolygon(IList<ScreenPoint> points, OxyColor fill, OxyColor stroke, double thickness, EdgeRenderingMode edgeRenderingMode, double[]? dashArray, LineJoin lineJoin) =>
        throw new NotSupportedException("measuring only");

    public override void DrawText(ScreenPoint p, string text, OxyColor fill, string fontFamily, double fontSize, double fontWeight, double rotation, HorizontalAlignment horizontalAlignment, VerticalAlignment verticalAlignment, OxySize? maxSize) =>
        throw new NotSupportedException("measuring only");

    public override void PushClip(OxyRect clippingRectangle) => throw new NotSupportedException("measuring only");

    private static int Advance(char c) => c switch
    {
        'i' or 'j' or 'l' or '\'' or '|' => 222,
        '.' or ',' or ':' or ';' or '!' or ' ' or 'I' or 'f' or 't' or '/' or '(' or ')' or '[' or ']' => 278,
        'r' or '-' => 333,
        'm' or 'M' => 833,
        'w' or '%' => 889,
        'W' => 944,
        >= 'A' and <= 'Z' => 667,
        >= '0' and <= '9' => 556,
        _ => c > 127 ? 600 : 556,
    };
}
