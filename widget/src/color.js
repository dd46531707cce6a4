// Colours: pick black or white text on the bot's accent colour by WCAG contrast.

function channels(hex) {
  let s = String(hex || '').replace('#', '');
  if (s.length === 3 || s.length === 4) s = s.replace(/./g, '$&$&');
  if (!/^[0-9a-f]{6}([0-9a-f]{2})?$/i.test(s)) return null;
  return [0, 2, 4].map((i) => parseInt(s.slice(i, i + 2), 16) / 255);
}

function luminance(rgb) {
  const [r, g, b] = rgb.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a, b) {
  const [x, y] = [luminance(channels(a)), luminance(channels(b))].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** CSS variables for an accent colour: --a (accent), --fg (text on it), --ring, --link. */
export function palette(accent) {
  const a = channels(accent) ? '#' + String(accent).replace('#', '').slice(0, 6) : '#4f46e5';
  const fg = contrast(a, '#ffffff') >= contrast(a, '#000000') ? '#ffffff' : '#000000';
  return {
    '--a': a,
    '--fg': fg,
    // focus rings need 3:1 against the white panel; links 4.5:1 against the grey bubbles
    '--ring': contrast(a, '#ffffff') >= 3 ? a : '#1a1a1a',
    '--link': contrast(a, '#f1f3f5') >= 4.5 ? a : '#0b4fb3',
  };
}
