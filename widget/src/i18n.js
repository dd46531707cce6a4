// The widget's fixed texts. data-locale picks the table, else the browser's language, else English.

const TEXTS = {
  en: {
    open: 'Open chat',
    close: 'Close chat',
    msg: 'Message',
    ph: 'Type your message…',
    send: 'Send',
    newc: 'New conversation',
    newd: 'New conversation started.',
    you: 'You',
    typing: 'Typing…',
    src: 'Sources',
    page: 'page {n}',
    excerpt: 'Show excerpt',
    up: 'Helpful',
    down: 'Not helpful',
    retry: 'Retry',
    log: 'Messages',
    offline: "You're offline. Check your connection and try again.",
    net: "Couldn't reach the chat server. Check your connection and try again.",
    e401: 'This chat is not set up correctly (invalid key). Please contact the website owner.',
    e403: 'This chat is not available on this website.',
    quota: 'This chat has reached its monthly message limit. Please contact the website owner.',
    rate: "You're sending messages too quickly. Please try again in {s} seconds.",
    long: 'Your message is too long.',
    fail: 'Something went wrong. Please try again.',
  },
  es: {
    open: 'Abrir chat',
    close: 'Cerrar chat',
    msg: 'Mensaje',
    ph: 'Escribe tu mensaje…',
    send: 'Enviar',
    newc: 'Nueva conversación',
    newd: 'Nueva conversación iniciada.',
    you: 'Tú',
    typing: 'Escribiendo…',
    src: 'Fuentes',
    page: 'página {n}',
    excerpt: 'Ver extracto',
    up: 'Útil',
    down: 'No útil',
    retry: 'Reintentar',
    log: 'Mensajes',
    offline: 'Estás sin conexión. Comprueba tu conexión e inténtalo de nuevo.',
    net: 'No se pudo contactar con el servidor del chat. Comprueba tu conexión e inténtalo de nuevo.',
    e401: 'Este chat no está bien configurado (clave no válida). Contacta con el propietario del sitio.',
    e403: 'Este chat no está disponible en este sitio web.',
    quota: 'Este chat ha alcanzado su límite mensual de mensajes. Contacta con el propietario del sitio.',
    rate: 'Estás enviando mensajes demasiado rápido. Inténtalo de nuevo en {s} segundos.',
    long: 'Tu mensaje es demasiado largo.',
    fail: 'Algo salió mal. Inténtalo de nuevo.',
  },
  fr: {
    open: 'Ouvrir le chat',
    close: 'Fermer le chat',
    msg: 'Message',
    ph: 'Écrivez votre message…',
    send: 'Envoyer',
    newc: 'Nouvelle conversation',
    newd: 'Nouvelle conversation commencée.',
    you: 'Vous',
    typing: 'En train d’écrire…',
    src: 'Sources',
    page: 'page {n}',
    excerpt: 'Voir l’extrait',
    up: 'Utile',
    down: 'Pas utile',
    retry: 'Réessayer',
    log: 'Messages',
    offline: 'Vous êtes hors ligne. Vérifiez votre connexion et réessayez.',
    net: 'Impossible de joindre le serveur du chat. Vérifiez votre connexion et réessayez.',
    e401: 'Ce chat est mal configuré (clé invalide). Contactez le propriétaire du site.',
    e403: 'Ce chat n’est pas disponible sur ce site.',
    quota: 'Ce chat a atteint sa limite mensuelle de messages. Contactez le propriétaire du site.',
    rate: 'Vous envoyez des messages trop vite. Réessayez dans {s} secondes.',
    long: 'Votre message est trop long.',
    fail: 'Une erreur s’est produite. Veuillez réessayer.',
  },
  de: {
    open: 'Chat öffnen',
    close: 'Chat schließen',
    msg: 'Nachricht',
    ph: 'Nachricht eingeben…',
    send: 'Senden',
    newc: 'Neue Unterhaltung',
    newd: 'Neue Unterhaltung begonnen.',
    you: 'Sie',
    typing: 'Schreibt…',
    src: 'Quellen',
    page: 'Seite {n}',
    excerpt: 'Auszug anzeigen',
    up: 'Hilfreich',
    down: 'Nicht hilfreich',
    retry: 'Erneut versuchen',
    log: 'Nachrichten',
    offline: 'Sie sind offline. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
    net: 'Der Chat-Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
    e401: 'Dieser Chat ist nicht richtig eingerichtet (ungültiger Schlüssel). Bitte wenden Sie sich an den Betreiber der Website.',
    e403: 'Dieser Chat ist auf dieser Website nicht verfügbar.',
    quota: 'Dieser Chat hat sein monatliches Nachrichtenlimit erreicht. Bitte wenden Sie sich an den Betreiber der Website.',
    rate: 'Sie senden zu schnell Nachrichten. Bitte versuchen Sie es in {s} Sekunden erneut.',
    long: 'Ihre Nachricht ist zu lang.',
    fail: 'Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.',
  },
};

/** The language code used ('en', 'es', 'fr', 'de') and t(key, {var: value}). */
export function translator(locale) {
  let lang = 'en';
  try {
    const wanted = String(locale || navigator.language || 'en').toLowerCase().slice(0, 2);
    if (TEXTS[wanted]) lang = wanted;
  } catch (_) {
    /* keep English */
  }
  const table = TEXTS[lang];
  const t = (key, vars) => {
    let text = table[key] || TEXTS.en[key] || key;
    for (const name in vars || {}) text = text.split('{' + name + '}').join(String(vars[name]));
    return text;
  };
  t.lang = lang;
  return t;
}
