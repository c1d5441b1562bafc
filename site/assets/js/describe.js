// What the page says about a picture: a readable description in the user's language, the image
// prompt without the instructions written for the model, and the weather line.

import { t } from './i18n.js';
import { formatWeather } from './ui.js';

/** Lines of the prompt that speak to the image model, not about the picture. */
const INSTRUCTION_LINES = [/^Paint a picture of the scene/i, /^Do not draw any text/i];
const TIMES = {
  'at dawn': 'dawn',
  'in the morning': 'morning',
  'around midday': 'midday',
  'in the afternoon': 'afternoon',
  'in the evening': 'evening',
  'at night': 'night',
};
const DEFAULT_STYLE = 'a soft, dreamy watercolour painting';

/** The prompt as a reader wants it: the instructions to the model taken out. */
export function cleanPrompt(prompt) {
  return String(prompt ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !INSTRUCTION_LINES.some((pattern) => pattern.test(line)))
    .map((line) => line.replace(/^Setting \([^)]*\):/, 'Setting:'))
    .join('\n');
}

/** One sentence about the picture: its style, the words, the time of day and the weather. */
export function describePicture(item) {
  const prompt = String(item?.prompt ?? '');
  const words = String(item?.transcript ?? '').trim();
  const styleLine = prompt.match(/^Style: "?(.*?)"?\.?$/m)?.[1]?.trim() ?? '';
  const style = !styleLine || styleLine.toLowerCase() === DEFAULT_STYLE ? t('describe.style') : styleLine;
  const parts = [];
  const time = Object.entries(TIMES).find(([phrase]) => prompt.includes(`it is ${phrase}`))?.[1];
  if (time) parts.push(t(`describe.time.${time}`));
  const weather = formatWeather(item?.weather);
  if (weather) parts.push(weather);
  if (!words) return cleanPrompt(prompt);
  const setting = parts.length ? t('describe.setting', { parts: parts.join(', ') }) : '';
  return t('describe.sentence', { style, words, setting });
}

/** The weather line: the weather, or why there is none (no location shared, or no service). */
export function weatherText(item, { locationSent = false } = {}) {
  const weather = formatWeather(item?.weather);
  if (weather) return weather;
  return t(item?.location || locationSent ? 'weather.unavailable' : 'weather.noLocation');
}
