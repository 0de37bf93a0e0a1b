/**
 * What a terminal shows after some output: a small VT100 subset, the sequences the progress
 * module (local/cli/progress.ts) and cli-progress write: printable characters with line wrap,
 * CR, LF, cursor up/down/column (CSI A, B, E, F, G), erase in line and in display (CSI K, J).
 * Other sequences (cursor visibility, line-wrap mode, colours) are skipped. Rows are never
 * scrolled away: the result is the screen and its scrollback, one string per row.
 */
export function terminalScreen(output: string, columns = 80): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  const at = (r: number) => {
    while (rows.length <= r) rows.push([]);
    return rows[r] as string[];
  };
  const chars = Array.from(output);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === "\x1b") {
      const rest = chars.slice(i + 1, i + 24).join("");
      const csi = /^\[([?0-9;]*)([@-~])/.exec(rest);
      if (!csi) {
        i += 1; // ESC 7, ESC 8, ...: one character after ESC
        continue;
      }
      i += csi[0].length;
      const params = csi[1] ?? "";
      const n = params.startsWith("?") ? 0 : Number(params.split(";")[0] || 0);
      switch (csi[2]) {
        case "A":
          row = Math.max(0, row - Math.max(1, n));
          break;
        case "B":
          row += Math.max(1, n);
          break;
        case "E":
          row += Math.max(1, n);
          col = 0;
          break;
        case "F":
          row = Math.max(0, row - Math.max(1, n));
          col = 0;
          break;
        case "G":
          col = Math.max(0, n - 1);
          break;
        case "K": {
          const line = at(row);
          if (n === 0) line.length = Math.min(line.length, col);
          else if (n === 1) for (let c = 0; c <= col && c < line.length; c++) line[c] = " ";
          else line.length = 0;
          break;
        }
        case "J":
          if (n === 0) {
            at(row).length = Math.min(at(row).length, col);
            rows.length = row + 1;
          } else if (n === 2) {
            for (const line of rows) line.length = 0;
          }
          break;
        default:
          break; // modes, colours
      }
      continue;
    }
    if (ch === "\r") col = 0;
    else if (ch === "\n") row++;
    else if (ch === "\b") col = Math.max(0, col - 1);
    else if (ch >= " ") {
      if (col >= columns) {
        row++;
        col = 0;
      }
      const line = at(row);
      while (line.length < col) line.push(" ");
      line[col++] = ch;
    }
  }
  at(row);
  return rows.map((r) => r.join("").trimEnd());
}

/** The text without terminal escapes and with `\r\n` as `\n` (what a person reads in a log). */
export function plainText(output: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escapes are what is removed
  return output.replace(/\x1b\[[?0-9;]*[@-~]|\x1b[^[]/g, "").replace(/\r\n/g, "\n");
}
