// The "use my location" toggle: the remembered choice, the rounded position and what the page says about it.

import { byId, setText } from './ui.js';
import { storage } from './storage.js';

const LOCATION_PREF_KEY = 'mumble.useLocation';
const LOCATION_MAX_AGE_MS = 10 * 60 * 1000;
/** About 100 m: plenty for the weather, and no more precise than it needs to be. */
const COORDINATE_DECIMALS = 3;

export function createLocationToggle() {
  const el = {
    useLocation: byId('use-location'),
    locationStatus: byId('location-status'),
  };

  let coords = null; // {latitude, longitude, at}

  el.useLocation.checked = storage.get(LOCATION_PREF_KEY) === 'yes';
  el.useLocation.addEventListener('change', () => {
    storage.set(LOCATION_PREF_KEY, el.useLocation.checked ? 'yes' : 'no');
    if (el.useLocation.checked) locate();
    else {
      coords = null;
      setLocationStatus('off', 'record.locationHint');
    }
  });

  function setLocationStatus(state, key) {
    el.locationStatus.dataset.state = state;
    setText(el.locationStatus, key);
  }

  /** The position, asked for again once older than LOCATION_MAX_AGE_MS; null when there is none to give. */
  async function locate() {
    if (!('geolocation' in navigator)) {
      setLocationStatus('unsupported', 'location.unsupported');
      return null;
    }
    if (coords && Date.now() - coords.at < LOCATION_MAX_AGE_MS) return coords;
    setLocationStatus('asking', 'location.asking');
    return new Promise((resolve) => {
      navigator.geolocation.getCurrentPosition(
        (position) => {
          coords = rounded(position.coords);
          setLocationStatus('ready', 'location.ready');
          resolve(coords);
        },
        (error) => {
          coords = null;
          if (error.code === error.PERMISSION_DENIED) setLocationStatus('denied', 'location.denied');
          else setLocationStatus('unavailable', 'location.unavailable');
          resolve(null);
        },
        { enableHighAccuracy: false, timeout: 10_000, maximumAge: LOCATION_MAX_AGE_MS },
      );
    });
  }

  return {
    /** Whether the user wants the weather where they are. */
    get wanted() {
      return el.useLocation.checked;
    },
    locate,
    /** `sending`: the choice for the job on its way is already made. */
    render({ sending }) {
      el.useLocation.disabled = sending;
    },
    /** Sign-out: the next user's position is asked for afresh. */
    forget() {
      coords = null;
    },
  };
}

function rounded({ latitude, longitude }) {
  const round = (value) => Number(value.toFixed(COORDINATE_DECIMALS));
  return { latitude: round(latitude), longitude: round(longitude), at: Date.now() };
}
