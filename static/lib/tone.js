// A short two-note alarm made with the Web Audio API (no sound file). Browsers let a page
// start audio only after the person has clicked or typed in it, so the context is made on
// the first such gesture; `ready()` says whether a tone can be heard now.
let context = null;

function unlock() {
  if (!context) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context) context = new Context();
  }
  if (context && context.state === 'suspended') context.resume();
}

for (const event of ['pointerdown', 'keydown']) document.addEventListener(event, unlock, { capture: true });

export const ready = () => !!context && context.state === 'running';

/// Plays the alarm; answers whether it could.
export function alarm() {
  if (!ready()) return false;
  const start = context.currentTime;
  [880, 660, 880].forEach((frequency, i) => {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = 'square';
    osc.frequency.value = frequency;
    const at = start + i * 0.18;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.15, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
    osc.connect(gain).connect(context.destination);
    osc.start(at);
    osc.stop(at + 0.17);
  });
  return true;
}
