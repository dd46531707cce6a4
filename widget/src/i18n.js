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

// The panel's texts for actions, live handoff and audiences: used only by widget-panel.js (the
// launcher's bundle leaves them out), looked up before the table above by extend().
const MORE = {
  en: {
    human: 'Talk to a person',
    conn: 'Connecting you to a person…',
    joined: '{name} joined the conversation.',
    agent: 'Support',
    closed: 'The conversation was closed.',
    back: "You're chatting with the assistant again.",
    atyping: '{name} is typing…',
    lead: 'Leave your details',
    f_name: 'Name',
    f_email: 'Email',
    f_phone: 'Phone',
    f_message: 'Message',
    req: 'required',
    need: 'Please fill in this field.',
    email: 'Enter a valid email address, like name@example.com.',
    phone: 'Enter a valid phone number (digits, spaces, + and - only).',
    submit: 'Send',
    thanks: 'Thank you! We will get back to you soon.',
    who: 'Who are you?',
  },
  es: {
    human: 'Hablar con una persona',
    conn: 'Te estamos conectando con una persona…',
    joined: '{name} se ha unido a la conversación.',
    agent: 'Soporte',
    closed: 'La conversación se ha cerrado.',
    back: 'Vuelves a hablar con el asistente.',
    atyping: '{name} está escribiendo…',
    lead: 'Déjanos tus datos',
    f_name: 'Nombre',
    f_email: 'Correo electrónico',
    f_phone: 'Teléfono',
    f_message: 'Mensaje',
    req: 'obligatorio',
    need: 'Rellena este campo.',
    email: 'Escribe un correo válido, como nombre@ejemplo.com.',
    phone: 'Escribe un teléfono válido (solo dígitos, espacios, + y -).',
    submit: 'Enviar',
    thanks: '¡Gracias! Te responderemos pronto.',
    who: '¿Quién eres?',
  },
  fr: {
    human: 'Parler à une personne',
    conn: 'Nous vous mettons en relation avec une personne…',
    joined: '{name} a rejoint la conversation.',
    agent: 'Support',
    closed: 'La conversation a été fermée.',
    back: 'Vous discutez de nouveau avec l’assistant.',
    atyping: '{name} est en train d’écrire…',
    lead: 'Laissez vos coordonnées',
    f_name: 'Nom',
    f_email: 'E-mail',
    f_phone: 'Téléphone',
    f_message: 'Message',
    req: 'obligatoire',
    need: 'Veuillez remplir ce champ.',
    email: 'Saisissez une adresse e-mail valide, comme nom@exemple.com.',
    phone: 'Saisissez un numéro valide (chiffres, espaces, + et - seulement).',
    submit: 'Envoyer',
    thanks: 'Merci ! Nous vous répondrons bientôt.',
    who: 'Qui êtes-vous ?',
  },
  de: {
    human: 'Mit einer Person sprechen',
    conn: 'Wir verbinden Sie mit einer Person…',
    joined: '{name} ist der Unterhaltung beigetreten.',
    agent: 'Support',
    closed: 'Die Unterhaltung wurde beendet.',
    back: 'Sie chatten wieder mit dem Assistenten.',
    atyping: '{name} schreibt…',
    lead: 'Hinterlassen Sie Ihre Daten',
    f_name: 'Name',
    f_email: 'E-Mail',
    f_phone: 'Telefon',
    f_message: 'Nachricht',
    req: 'Pflichtfeld',
    need: 'Bitte füllen Sie dieses Feld aus.',
    email: 'Geben Sie eine gültige E-Mail-Adresse ein, z. B. name@beispiel.de.',
    phone: 'Geben Sie eine gültige Telefonnummer ein (nur Ziffern, Leerzeichen, + und -).',
    submit: 'Senden',
    thanks: 'Vielen Dank! Wir melden uns bald bei Ihnen.',
    who: 'Wer sind Sie?',
  },
};

/** The launcher's t() with the panel's texts (MORE) in the same language. */
export function extend(t) {
  const table = MORE[t.lang] || MORE.en;
  const more = (key, vars) => {
    let text = table[key] || MORE.en[key];
    if (text == null) return t(key, vars);
    for (const name in vars || {}) text = text.split('{' + name + '}').join(String(vars[name]));
    return text;
  };
  more.lang = t.lang;
  return more;
}
