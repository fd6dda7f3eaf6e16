// Every word of the console, in English and in Italian (the HubSpot page
// this reproduces is Italian). Keys are the English text's meaning; a test
// checks that both languages have every key.

export type Lang = "en" | "it";

const en = {
  product: "crmbackup",
  title: "Backup and restore",
  signOut: "Sign out",
  language: "Language",
  navBackups: "Backup and restore",
  navImports: "Imports",
  navAudit: "Audit log",
  navNotifications: "Notifications",
  intro:
    "A backup holds every record and property value of your CRM objects — Sensitive and Highly Sensitive data included — as one CSV file per object in a ZIP. It can be downloaded and restored from for 14 days.",
  quotaAllowed: "You can create a backup now ({window}).",
  quotaUsed: "Next backup allowed after {when} ({window}; the last one is backup {id}).",
  quotaDay: "one every 24 hours",
  quotaWeek: "one a week",
  createBackup: "Create backup",
  scheduleBackup: "Schedule backup",
  createTitle: "Create a backup",
  createWarning: "Changes made while the backup runs may not be reflected in it.",
  create: "Create",
  cancel: "Cancel",
  close: "Close",
  colCreated: "Created",
  colTrigger: "Trigger",
  colStatus: "Status",
  colRecords: "Records",
  colSize: "Size",
  colExpires: "Expires",
  colActions: "Actions",
  manual: "Manual",
  scheduled: "Scheduled",
  QUEUED: "Queued",
  RUNNING: "Running",
  COMPLETED: "Completed",
  FAILED: "Failed",
  EXPIRED: "Expired",
  progress: "{done} records exported",
  download: "Download",
  restore: "Restore",
  noBackups: "No backups yet. Create one to protect your CRM data.",
  expiresIn: "in {n} days",
  expiresToday: "today",
  scheduleTitle: "Schedule backup",
  scheduleOn: "Recurring backups",
  frequency: "Frequency",
  weekly: "Once a week",
  biweekly: "Every two weeks",
  daily: "Daily",
  timeOfDay: "Time of day",
  timezone: "Time zone",
  dayOfWeek: "Day of the week",
  save: "Save",
  saved: "Saved.",
  nextRun: "Next run: {when}",
  enterpriseOnly: "Recurring backups are an Enterprise feature.",
  days: "sunday,monday,tuesday,wednesday,thursday,friday,saturday",
  dayNames: "Sunday,Monday,Tuesday,Wednesday,Thursday,Friday,Saturday",
  signInTitle: "Sign in (local stack)",
  signInIntro:
    "The local stack signs you in with a dev token. Pick who you are and how you signed in, to try every path.",
  email: "E-mail",
  account: "Account",
  role: "Role",
  superAdmin: "Super admin",
  viewer: "Viewer (not a super admin)",
  twoFactor: "Two-factor sign-in",
  mfaNow: "Just now",
  mfaEarlier: "An hour ago",
  sso: "Single sign-on",
  signIn: "Sign in",
  signInCode: "Sign-in code (printed by make local)",
  errorPrefix: "Something went wrong: {msg}",
  retry: "Try again",
  loading: "Loading…",
  signedInAs: "Signed in as {email}",
  unread: "{n} unread notifications",
  accountLine: "{name} · portal {portal} · {tier}",
  starter: "Starter",
  professional: "Professional",
  enterprise: "Enterprise",
  restoreTitle: "Restore from backup",
  step1: "Select an object to restore",
  step2: "Select the properties to restore: they get the values they had when the backup completed, including empty ones, which will be cleared.",
  records: "{n} records",
  notRestorable: "Not restorable: {why}",
  search: "Search properties",
  selectAll: "Select all",
  selected: "{n} selected",
  next: "Next",
  back: "Back",
  review: "Review",
  planning: "Comparing the backup with your CRM… {done} of {total} records",
  colProperty: "Property",
  toSet: "To set",
  toClear: "To clear",
  unchanged: "Unchanged",
  missing: "Missing",
  total: "Total",
  samples: "Examples (now → after)",
  empty: "(empty)",
  missingNote: "{n} records of the backup no longer exist: they are not restored. Restore them from the recycle bin (within 90 days of deletion) or re-import them from the backup's CSV.",
  workflowWarning: "Restored values are ordinary property updates: workflows that allow re-enrollment on these properties may be triggered.",
  signInFailed: "The sign-in did not complete: {why}",
  externalIssuer: "This stack signs admins in through your organisation's own identity provider: use the crmbackup CLI or the API with its ID token.",
  unreachable: "The crmbackup API cannot be reached; check your connection and try again.",
  excluded: "Not restored: {name} ({why})",
  ackChange: "I understand this restore will change my data",
  ackUndo: "I understand it cannot be undone",
  restoreData: "Restore data",
  reauth: "A restore needs a two-factor sign-in of the last few minutes. Sign in again to go on.",
  signInAgain: "Sign in again with two-factor",
  restoreRunning: "A restore is running: only one runs at a time.",
  nothingToRestore: "Nothing to restore: every value already equals the backup's.",
  importsTitle: "Imports",
  colName: "Name",
  colStarted: "Started",
  updated: "Updated",
  cleared: "Cleared",
  failed: "Failed",
  errorFile: "Values HubSpot refused ({n})",
  noImports: "No imports yet.",
  importProgress: "{done} of {total} records",
  notificationsTitle: "Notifications",
  markAllRead: "Mark all as read",
  markRead: "Mark as read",
  noNotifications: "No notifications.",
  unreadLabel: "Unread",
  auditTitle: "Audit log",
  actionFilter: "Action",
  allActions: "All actions",
  colAt: "When",
  colActor: "Who",
  colAction: "Action",
  colOutcome: "Outcome",
  colDetails: "Details",
  older: "Older entries",
  olderBackups: "Older backups",
  perObject: "Records per object",
  noEntries: "No entries.",
  open: "Open",
};

type Catalogue = typeof en;
export type Key = keyof Catalogue;

const it: Catalogue = {
  product: "crmbackup",
  title: "Backup e ripristino",
  signOut: "Esci",
  language: "Lingua",
  navBackups: "Backup e ripristino",
  navImports: "Importazioni",
  navAudit: "Registro di controllo",
  navNotifications: "Notifiche",
  intro:
    "Un backup contiene tutti i record e i valori delle proprietà degli oggetti del CRM, dati sensibili e altamente sensibili compresi, in un file CSV per oggetto dentro un archivio ZIP. Si può scaricare e usare per un ripristino per 14 giorni.",
  quotaAllowed: "Puoi creare un backup adesso ({window}).",
  quotaUsed: "Il prossimo backup sarà possibile dopo {when} ({window}; l'ultimo è il backup {id}).",
  quotaDay: "un backup ogni 24 ore",
  quotaWeek: "un backup alla settimana",
  createBackup: "Crea backup",
  scheduleBackup: "Pianifica backup",
  createTitle: "Crea un backup",
  createWarning: "Le modifiche apportate durante l'elaborazione del backup potrebbero non riflettersi.",
  create: "Crea",
  cancel: "Annulla",
  close: "Chiudi",
  colCreated: "Creato",
  colTrigger: "Origine",
  colStatus: "Stato",
  colRecords: "Record",
  colSize: "Dimensione",
  colExpires: "Scadenza",
  colActions: "Azioni",
  manual: "Manuale",
  scheduled: "Pianificato",
  QUEUED: "In coda",
  RUNNING: "In corso",
  COMPLETED: "Completato",
  FAILED: "Non riuscito",
  EXPIRED: "Scaduto",
  progress: "{done} record esportati",
  download: "Download",
  restore: "Ripristina",
  noBackups: "Nessun backup per ora. Creane uno per proteggere i dati del CRM.",
  expiresIn: "tra {n} giorni",
  expiresToday: "oggi",
  scheduleTitle: "Pianifica backup",
  scheduleOn: "Backup ricorrenti",
  frequency: "Frequenza",
  weekly: "Una volta alla settimana",
  biweekly: "Ogni due settimane",
  daily: "Ogni giorno",
  timeOfDay: "Ora del giorno",
  timezone: "Fuso orario",
  dayOfWeek: "Giorno della settimana",
  save: "Salva",
  saved: "Salvato.",
  nextRun: "Prossima esecuzione: {when}",
  enterpriseOnly: "I backup ricorrenti sono una funzione di Enterprise.",
  days: "sunday,monday,tuesday,wednesday,thursday,friday,saturday",
  dayNames: "Domenica,Lunedì,Martedì,Mercoledì,Giovedì,Venerdì,Sabato",
  signInTitle: "Accedi (stack locale)",
  signInIntro:
    "Lo stack locale ti fa accedere con un token di sviluppo. Scegli chi sei e come hai effettuato l'accesso, per provare ogni percorso.",
  email: "E-mail",
  account: "Account",
  role: "Ruolo",
  superAdmin: "Super amministratore",
  viewer: "Visualizzatore (non super amministratore)",
  twoFactor: "Accesso a due fattori",
  mfaNow: "Adesso",
  mfaEarlier: "Un'ora fa",
  sso: "Single sign-on",
  signIn: "Accedi",
  signInCode: "Codice di accesso (stampato da make local)",
  errorPrefix: "Si è verificato un problema: {msg}",
  retry: "Riprova",
  loading: "Caricamento…",
  signedInAs: "Accesso effettuato come {email}",
  unread: "{n} notifiche non lette",
  accountLine: "{name} · portal {portal} · {tier}",
  starter: "Starter",
  professional: "Professional",
  enterprise: "Enterprise",
  restoreTitle: "Ripristina dal backup",
  step1: "Seleziona un oggetto da ripristinare",
  step2: "Seleziona le proprietà da ripristinare: riprendono i valori che avevano al completamento del backup, compresi quelli vuoti, che verranno cancellati.",
  records: "{n} record",
  notRestorable: "Non ripristinabile: {why}",
  search: "Cerca proprietà",
  selectAll: "Seleziona tutto",
  selected: "{n} selezionate",
  next: "Avanti",
  back: "Indietro",
  review: "Revisione",
  planning: "Confronto del backup con il CRM… {done} di {total} record",
  colProperty: "Proprietà",
  toSet: "Da impostare",
  toClear: "Da cancellare",
  unchanged: "Invariati",
  missing: "Mancanti",
  total: "Totale",
  samples: "Esempi (ora → dopo)",
  empty: "(vuoto)",
  missingNote: "{n} record del backup non esistono più e non vengono ripristinati: recuperali dal cestino (entro 90 giorni dall'eliminazione) o usa l'importazione del CSV del backup.",
  workflowWarning: "I valori ripristinati sono normali aggiornamenti delle proprietà: potrebbero attivarsi i flussi di lavoro con nuova registrazione su queste proprietà.",
  signInFailed: "L'accesso non è stato completato: {why}",
  externalIssuer: "Questo stack fa accedere gli amministratori tramite il provider di identità della tua organizzazione: usa la CLI crmbackup o l'API con il suo token ID.",
  unreachable: "Impossibile raggiungere l'API di crmbackup; controlla la connessione e riprova.",
  excluded: "Non ripristinata: {name} ({why})",
  ackChange: "Capisco che il ripristino modificherà i miei dati",
  ackUndo: "Capisco che non può essere annullato",
  restoreData: "Ripristina dati",
  reauth: "Un ripristino richiede un accesso a due fattori degli ultimi minuti. Accedi di nuovo per continuare.",
  signInAgain: "Accedi di nuovo con due fattori",
  restoreRunning: "È in corso un ripristino: se ne esegue uno alla volta.",
  nothingToRestore: "Niente da ripristinare: ogni valore è già uguale a quello del backup.",
  importsTitle: "Importazioni",
  colName: "Nome",
  colStarted: "Avviata",
  updated: "Aggiornati",
  cleared: "Cancellati",
  failed: "Non riusciti",
  errorFile: "Valori rifiutati da HubSpot ({n})",
  noImports: "Nessuna importazione per ora.",
  importProgress: "{done} di {total} record",
  notificationsTitle: "Notifiche",
  markAllRead: "Segna tutte come lette",
  markRead: "Segna come letta",
  noNotifications: "Nessuna notifica.",
  unreadLabel: "Non letta",
  auditTitle: "Registro di controllo",
  actionFilter: "Azione",
  allActions: "Tutte le azioni",
  colAt: "Quando",
  colActor: "Chi",
  colAction: "Azione",
  colOutcome: "Esito",
  colDetails: "Dettagli",
  older: "Voci meno recenti",
  olderBackups: "Backup meno recenti",
  perObject: "Record per oggetto",
  noEntries: "Nessuna voce.",
  open: "Apri",
};

export const catalogues: Record<Lang, Catalogue> = { en, it };

let current: Lang = "en";

export function initialLang(): Lang {
  const saved = localStorage.getItem("crmbackup.lang");
  if (saved === "en" || saved === "it") return saved;
  return navigator.language.toLowerCase().startsWith("it") ? "it" : "en";
}

// setLang makes l the language of what renders next; remember keeps it
// for the next visit.
export function setLang(l: Lang, remember = false) {
  current = l;
  document.documentElement.lang = l;
  if (remember) localStorage.setItem("crmbackup.lang", l);
}

export function lang(): Lang {
  return current;
}

// t is the text of key in the current language, {name}s filled from vars.
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  return catalogues[current][key].replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

const locale = () => (current === "it" ? "it-IT" : "en-US");

export function num(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}

// when is a time in the admin's zone, with the zone shown.
export function when(iso: string | undefined): string {
  if (!iso) return "–";
  // dateStyle cannot be combined with timeZoneName: the fields one by one.
  return new Intl.DateTimeFormat(locale(), {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  }).format(new Date(iso));
}

export function bytes(n: number): string {
  if (!n) return "–";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(v)} ${units[i]}`;
}

// importName is an import's name in the current language: the API names
// restores "Data restore - Deal" (HubSpot's English); the Italian page says
// "Ripristino dati - Trattativa".
const italianObjects: Record<string, string> = {
  Contact: "Contatto", Company: "Azienda", Deal: "Trattativa", Ticket: "Ticket", Product: "Prodotto", Call: "Chiamata", Task: "Attività",
};
export function importName(name: string): string {
  const prefix = "Data restore - ";
  if (current !== "it" || !name.startsWith(prefix)) return name;
  const object = name.slice(prefix.length);
  return `Ripristino dati - ${italianObjects[object] ?? object}`;
}
