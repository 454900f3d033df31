/* chart.c — goodput (bars) against offered load (dots, where goodput falls
 * short of it) over the run, in block characters, with the trigger marked
 * under the time axis. */
#include <math.h>
#include <stdio.h>

#include "chart.h"

/* ---- the chart ------------------------------------------------------------------------- */

static const char *const blocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

/* Mean of a per-window series over the windows of chart column c (NANs, as
 * in a band nobody filled, are skipped). */
static double column_mean(const msim_chart *ch, const double *series, int c, int width)
{
    uint32_t w0 = (uint32_t)((uint64_t)c * ch->nwin / (uint64_t)width);
    uint32_t w1 = (uint32_t)((uint64_t)(c + 1) * ch->nwin / (uint64_t)width);
    if (w1 <= w0) w1 = w0 + 1;
    double sum = 0;
    int n = 0;
    for (uint32_t w = w0; w < w1 && w < ch->nwin; w++)
        if (isfinite(series[w])) sum += series[w], n++;
    return n ? sum / n : 0;
}

static bool column_in_trigger(const msim_chart *ch, int c, int width)
{
    double t0 = msim_time_to_s(ch->horizon) * c / width, t1 = msim_time_to_s(ch->horizon) * (c + 1) / width;
    for (size_t i = 0; i < ch->sc->ntriggers; i++) {
        const msim_trigger_cfg *t = &ch->sc->triggers[i];
        double a = msim_time_to_s(t->at), b = msim_time_to_s(t->at + t->length);
        if (a < t1 && b > t0) return true;
    }
    return false;
}

void msim__chart(msim_buf *out, const msim_chart *ch)
{
    int width = ch->width ? ch->width : 64, height = ch->height ? ch->height : 8;
    if (width > 400) width = 400;
    if (width > (int)ch->nwin) width = (int)ch->nwin;
    if (width < 2) return;
    double good[400], off[400], top = 0;
    for (int c = 0; c < width; c++) {
        good[c] = column_mean(ch, ch->goodput, c, width);
        off[c] = column_mean(ch, ch->offered, c, width);
        top = fmax(top, fmax(good[c], off[c]));
    }
    if (top <= 0) return;
    top *= 1.05;
    char label[32];
    msim_buf_printf(out, "  goodput █ and offered load • per second; the trigger ▀ under the axis\n");
    for (int row = height - 1; row >= 0; row--) {
        msim__fmt_count(label, sizeof label, row == height - 1 ? top : 0);
        msim_buf_printf(out, "  %7s %s", row == height - 1 || row == 0 ? label : "", row == 0 ? "┼" : "│");
        for (int c = 0; c < width; c++) {
            int eighths = (int)lround(good[c] / top * height * 8) - row * 8;
            eighths = eighths < 0 ? 0 : eighths > 8 ? 8 : eighths;
            int off_row = (int)(off[c] / top * height);
            if (off_row >= height) off_row = height - 1;
            /* offered load shows only where goodput falls short of it */
            bool marker = off_row == row && eighths < 4 && good[c] < 0.9 * off[c];
            msim_buf_printf(out, "%s", marker ? "•" : blocks[eighths]);
        }
        msim_buf_printf(out, "\n");
    }
    msim_buf_printf(out, "  %7s └", "");
    for (int c = 0; c < width; c++)
        msim_buf_printf(out, "%s", column_in_trigger(ch, c, width) ? "▀" : "─");
    char end[32];
    msim__fmt_secs(end, sizeof end, msim_time_to_s(ch->horizon));
    msim_buf_printf(out, "\n  %7s  0%*s\n\n", "", width - 1, end);
}

