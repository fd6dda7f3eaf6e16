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
  progress: { one: "{done} record exported", other: "{done} records exported" },
  progressOf: { one: "{done} of about {total} record", other: "{done} of about {total} records" },
  progressLabel: "Backup progress",
  importProgressLabel: "Import progress",
  progressEstimate: "The total is the last completed backup's count: the backup may hold more or fewer records.",
  download: "Download",
  restore: "Restore",
  noBackups: "No backups yet. Create one to protect your CRM data.",
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
  retry: "Try again",
  loading: "Loading…",
  signedInAs: "Signed in as {email}",
  unread: { one: "{n} unread notification", other: "{n} unread notifications" },
  accountLine: "{name} · portal {portal} · {tier}",
  starter: "Starter",
  professional: "Professional",
  enterprise: "Enterprise",
  restoreTitle: "Restore from backup",
  step1: "Select an object to restore",
  step2: "Select the properties to restore: they get the values they had when the backup completed, including empty ones, which will be cleared.",
  records: { one: "{n} record", other: "{n} records" },
  notRestorable: "Not restorable: {why}",
  search: "Search properties",
  selectAll: "Select all",
  selected: { one: "{n} selected", other: "{n} selected" },
  next: "Next",
  back: "Back",
  review: "Review",
  planning: { one: "Comparing the backup with your CRM… {done} of {total} record", other: "Comparing the backup with your CRM… {done} of {total} records" },
  planningLabel: "Comparing…",
  colProperty: "Property",
  toSet: "To set",
  toClear: "To clear",
  unchanged: "Unchanged",
  missing: "Missing",
  total: "Total",
  samples: "Examples (now → after)",
  empty: "(empty)",
  missingNote: {
    one: "{n} record of the backup no longer exists: it is not restored. Restore it from the recycle bin (within 90 days of deletion) or re-import it from the backup's CSV.",
    other: "{n} records of the backup no longer exist: they are not restored. Restore them from the recycle bin (within 90 days of deletion) or re-import them from the backup's CSV.",
  },
  workflowWarning: "Restored values are ordinary property updates: workflows that allow re-enrollment on these properties may be triggered.",
  signInFailed: "The sign-in did not complete: {why}",
  externalIssuer: "This stack signs admins in through your organisation's own identity provider: use the crmbackup CLI or the API with its ID token.",
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
  importProgress: { one: "{done} of {total} record", other: "{done} of {total} records" },
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
  // The schedule in words (the API's description is English).
  schedOff: "Recurring backups are off.",
  schedDaily: "Every day at {time} ({zone}).",
  schedWeekly: "Every {day} at {time} ({zone}).",
  schedBiweekly: "Every two weeks on {day} at {time} ({zone}).",
  dayNamesInline: "Sunday,Monday,Tuesday,Wednesday,Thursday,Friday,Saturday",
  schedDisabled: "crmbackup switched the schedule off because the account was no longer on HubSpot Enterprise. Switch it on again to resume the runs.",
  // Focus and relative times.
  skipLink: "Skip to content",
  backupQueued: "Backup created: it is queued, and its progress shows in the table.",
  backupRunning: "The new backup is running: its progress shows in the table.",
  backupDone: { one: "The new backup completed with {n} record.", other: "The new backup completed with {n} records." },
  backupFailed: "The new backup failed: its row says why.",
  justNow: "just now",
  // The review.
  countsNote:
    "Counts as of this review: to set are values that differ from the backup's, to clear are empty in the backup but filled now, unchanged already match it (nothing is written). Restore data reads every record again; the import's counts say what was done.",
  samplesNote: "record {id}",
  // Why an object or a property cannot be restored, by the API's reasonCode
  // (internal/restore's ReasonCodes; a Go test checks that each has one).
  reason_conversations: "conversations are inbox threads, not CRM records: they cannot be written back",
  reason_no_records: "the backup holds no record of it",
  reason_expires_soon: "the backup expires sooner than a restore may take; restore from a newer backup",
  reason_property_gone: "the property no longer exists in the portal",
  reason_calculated: "calculated by HubSpot: it cannot be written",
  reason_read_only: "read-only: HubSpot does not accept writes to it",
  // The notifications, by kind (the stored subject and message are the e-mails' English).
  noteBackupCompleted: "Your CRM backup is ready",
  noteBackupCompletedText: "Backup {id} completed with {records}. It can be downloaded until {when}. Records changed while it ran may not be reflected in it.",
  noteBackupCompletedShort: "Backup {id} completed. Records changed while it ran may not be reflected in it.",
  noteBackupFailed: "Your CRM backup failed",
  noteBackupFailedText: "Backup {id} failed: its row in the backups' table says why. The backup quota was given back: you can start a new backup.",
  noteBackupSkipped: "Scheduled CRM backup skipped",
  noteBackupSkippedText: "The scheduled backup of {when} was skipped: a backup already ran within the last 24 hours, and the quota allows one per 24 hours. Nothing was queued.",
  noteSkippedAllowed: "The next backup is allowed from {when}.",
  noteSkippedNextRun: "The next scheduled backup runs on {when}.",
  noteSkippedAsPlanned: "The next scheduled backup runs as planned.",
  noteScheduleDisabled: "Recurring CRM backups switched off",
  noteScheduleDisabledText: "The backup schedule was switched off and the scheduled backup of {when} did not run: the account is no longer on HubSpot Enterprise. Manual backups still work, once a week.",
  noteImportCompleted: "Your import \"{name}\" is complete",
  noteImportCompletedShort: "Your import is complete",
  noteImportCompletedText: "The restore from backup {id} completed.",
  noteImportFailed: "Your import \"{name}\" failed",
  noteImportFailedShort: "Your import failed",
  noteImportFailedText: "The restore from backup {id} stopped: its row on the Imports page says why.",
  noteCounts: "Values updated: {updated}, cleared: {cleared}, unchanged: {unchanged}, failed: {failed}; records that no longer exist: {missing}.",
  noteMissingAdvice: "Records deleted since the backup are not restored: restore them from the recycle bin (within 90 days of deletion) or re-import them from the backup's CSV.",
  noteErrorFile: "The import's error file lists the values HubSpot refused: download it from the Imports page.",
  // The API's errors, by code (internal/apperr; a Go test checks that every code has one).
  err_invalid: "The request was not accepted: check what you entered and try again.",
  err_unauthorized: "Your sign-in has ended: sign in again.",
  err_forbidden: "Only a super admin of this account may do this.",
  err_reauthentication_required: "A restore needs a two-factor sign-in of the last few minutes. Sign in again to go on.",
  err_enterprise_required: "Recurring backups are a HubSpot Enterprise feature: this account is on {tier}. Create backups by hand instead (one a week).",
  err_not_found: "It no longer exists, or it is not this account's: reload the page.",
  err_conflict: "This cannot be done now: its state has changed meanwhile. Reload the page and try again.",
  err_gone: "It has expired: its files are deleted.",
  err_quota_exceeded: "The backup quota is used: the next backup is allowed after {when}.",
  err_internal: "crmbackup had an internal error. Try again; if it happens again, ask your operator (the API's log has the details).",
  // Errors the console finds itself, and more precise ones from the details and the action.
  err_unreachable: "The crmbackup API cannot be reached; check your connection and try again.",
  err_not_json: "The API answered something that is not JSON (HTTP {status}); try again later.",
  err_throttled: "The crmbackup API is receiving too many requests right now: wait a few seconds and try again.",
  err_unavailable: "The crmbackup API is not available right now: try again in a minute. If it goes on, ask your operator.",
  err_unknown: "Something went wrong: {msg}",
  errQuotaUsed: "The backup quota is used: wait until the time the quota line says.",
  errScopes: "HubSpot refused access: the account's credential lacks the scopes {scopes}. Add them to the service key (or private app), then review again.",
  errRestoreBusy: "A restore is running or this review was already run (import {id}): only one restore runs at a time.",
  errPlanNotReady: "This review cannot be run now: it is still being computed, or it failed. Go back and review again.",
  errPlanExpired: "This review has expired: go back and review again.",
  errExpiresSoon: "The backup expires at {when}, sooner than a restore may take: restore from a newer backup.",
  errNoneWritable: "None of the chosen properties can be written now (they are read-only or calculated): choose others.",
  errAcks: "Tick both boxes first: the data will change, and it cannot be undone.",
  errDownloadNotReady: "This backup cannot be downloaded: only a completed backup can.",
  errBackupExpired: "This backup has expired: its file is deleted.",
  errNotRestorable: "Only a completed backup can be restored from.",
  errScheduleChanged: "The schedule was changed by someone else meanwhile: close the panel, open it again and retry.",
  // A field the API names (details.field).
  field_frequency: "Choose once a week, every two weeks or daily.",
  field_timeOfDay: "Enter a time as HH:MM (24-hour), such as 03:30.",
  field_timezone: "Enter a time zone's name as the IANA database has it, such as Europe/Rome or America/New_York.",
  field_dayOfWeek: "Choose a day of the week.",
  field_code: "The sign-in code is wrong: open the console from the link make local prints.",
  fieldInvalid: "This value is not accepted.",
  fieldLine: "{label}: {text}",
  fieldUnknown: "The value of {field} was not accepted: check what you entered and try again.",
};

// A text that depends on a number has the plural forms of Intl.PluralRules
// ("one", "other"; Italian and English need no more).
interface Plural {
  one: string;
  other: string;
}

type Catalogue = { [K in keyof typeof en]: (typeof en)[K] extends string ? string : Plural };
export type Key = keyof Catalogue;
type TextKey = { [K in Key]: Catalogue[K] extends string ? K : never }[Key];
type PluralKey = Exclude<Key, TextKey>;

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
  progress: { one: "{done} record esportato", other: "{done} record esportati" },
  progressOf: { one: "{done} di circa {total} record", other: "{done} di circa {total} record" },
  progressLabel: "Avanzamento del backup",
  importProgressLabel: "Avanzamento dell'importazione",
  progressEstimate: "Il totale è il numero di record dell'ultimo backup completato: questo backup potrebbe contenerne di più o di meno.",
  download: "Download",
  restore: "Ripristina",
  noBackups: "Nessun backup per ora. Creane uno per proteggere i dati del CRM.",
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
  retry: "Riprova",
  loading: "Caricamento…",
  signedInAs: "Accesso effettuato come {email}",
  unread: { one: "{n} notifica non letta", other: "{n} notifiche non lette" },
  accountLine: "{name} · portal {portal} · {tier}",
  starter: "Starter",
  professional: "Professional",
  enterprise: "Enterprise",
  restoreTitle: "Ripristina dal backup",
  step1: "Seleziona un oggetto da ripristinare",
  step2: "Seleziona le proprietà da ripristinare: riprendono i valori che avevano al completamento del backup, compresi quelli vuoti, che verranno cancellati.",
  records: { one: "{n} record", other: "{n} record" },
  notRestorable: "Non ripristinabile: {why}",
  search: "Cerca proprietà",
  selectAll: "Seleziona tutto",
  selected: { one: "{n} selezionata", other: "{n} selezionate" },
  next: "Avanti",
  back: "Indietro",
  review: "Revisione",
  planning: { one: "Confronto del backup con il CRM… {done} di {total} record", other: "Confronto del backup con il CRM… {done} di {total} record" },
  planningLabel: "Confronto in corso…",
  colProperty: "Proprietà",
  toSet: "Da impostare",
  toClear: "Da cancellare",
  unchanged: "Invariati",
  missing: "Mancanti",
  total: "Totale",
  samples: "Esempi (ora → dopo)",
  empty: "(vuoto)",
  missingNote: {
    one: "{n} record del backup non esiste più e non viene ripristinato: recuperalo dal cestino (entro 90 giorni dall'eliminazione) o usa l'importazione del CSV del backup.",
    other: "{n} record del backup non esistono più e non vengono ripristinati: recuperali dal cestino (entro 90 giorni dall'eliminazione) o usa l'importazione del CSV del backup.",
  },
  workflowWarning: "I valori ripristinati sono normali aggiornamenti delle proprietà: potrebbero attivarsi i flussi di lavoro con nuova registrazione su queste proprietà.",
  signInFailed: "L'accesso non è stato completato: {why}",
  externalIssuer: "Questo stack fa accedere gli amministratori tramite il provider di identità della tua organizzazione: usa la CLI crmbackup o l'API con il suo token ID.",
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
  importProgress: { one: "{done} di {total} record", other: "{done} di {total} record" },
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
  schedOff: "I backup ricorrenti sono disattivati.",
  schedDaily: "Ogni giorno alle {time} ({zone}).",
  schedWeekly: "Ogni {day} alle {time} ({zone}).",
  schedBiweekly: "Ogni due settimane di {day} alle {time} ({zone}).",
  dayNamesInline: "domenica,lunedì,martedì,mercoledì,giovedì,venerdì,sabato",
  schedDisabled: "crmbackup ha disattivato la pianificazione perché l'account non era più su HubSpot Enterprise. Riattivala per riprendere le esecuzioni.",
  skipLink: "Vai al contenuto",
  backupQueued: "Backup creato: è in coda e il suo avanzamento compare nella tabella.",
  backupRunning: "Il nuovo backup è in corso: il suo avanzamento compare nella tabella.",
  backupDone: { one: "Il nuovo backup è stato completato con {n} record.", other: "Il nuovo backup è stato completato con {n} record." },
  backupFailed: "Il nuovo backup non è riuscito: la sua riga ne indica il motivo.",
  justNow: "adesso",
  countsNote:
    "Conteggi al momento di questa revisione: da impostare sono i valori diversi da quelli del backup, da cancellare quelli vuoti nel backup ma compilati ora, invariati quelli già uguali (non si scrive nulla). Ripristina dati rilegge ogni record; i conteggi dell'importazione dicono cosa è stato fatto.",
  samplesNote: "record {id}",
  reason_conversations: "le conversazioni sono thread della posta in arrivo, non record del CRM: non si possono riscrivere",
  reason_no_records: "il backup non ne contiene alcun record",
  reason_expires_soon: "il backup scade prima del tempo che un ripristino può richiedere; ripristina da un backup più recente",
  reason_property_gone: "la proprietà non esiste più nel portale",
  reason_calculated: "calcolata da HubSpot: non si può scrivere",
  reason_read_only: "di sola lettura: HubSpot non accetta scritture",
  noteBackupCompleted: "Il backup del CRM è pronto",
  noteBackupCompletedText: "Il backup {id} è stato completato con {records}. Si può scaricare fino al {when}. I record modificati durante l'elaborazione potrebbero non riflettersi.",
  noteBackupCompletedShort: "Il backup {id} è stato completato. I record modificati durante l'elaborazione potrebbero non riflettersi.",
  noteBackupFailed: "Il backup del CRM non è riuscito",
  noteBackupFailedText: "Il backup {id} non è riuscito: la sua riga nella tabella dei backup ne indica il motivo. La quota di backup è stata restituita: puoi avviare un nuovo backup.",
  noteBackupSkipped: "Backup pianificato del CRM saltato",
  noteBackupSkippedText: "Il backup pianificato del {when} è stato saltato: un backup è già stato eseguito nelle ultime 24 ore e la quota ne consente uno ogni 24 ore. Non è stato messo in coda nulla.",
  noteSkippedAllowed: "Il prossimo backup è consentito dal {when}.",
  noteSkippedNextRun: "Il prossimo backup pianificato si esegue il {when}.",
  noteSkippedAsPlanned: "Il prossimo backup pianificato si esegue come previsto.",
  noteScheduleDisabled: "Backup ricorrenti del CRM disattivati",
  noteScheduleDisabledText: "La pianificazione dei backup è stata disattivata e il backup pianificato del {when} non è stato eseguito: l'account non è più su HubSpot Enterprise. I backup manuali funzionano ancora, uno alla settimana.",
  noteImportCompleted: "L'importazione «{name}» è stata completata",
  noteImportCompletedShort: "L'importazione è stata completata",
  noteImportCompletedText: "Il ripristino dal backup {id} è stato completato.",
  noteImportFailed: "L'importazione «{name}» non è riuscita",
  noteImportFailedShort: "L'importazione non è riuscita",
  noteImportFailedText: "Il ripristino dal backup {id} si è interrotto: la sua riga nella pagina Importazioni ne indica il motivo.",
  noteCounts: "Valori aggiornati: {updated}, cancellati: {cleared}, invariati: {unchanged}, non riusciti: {failed}; record che non esistono più: {missing}.",
  noteMissingAdvice: "I record eliminati dopo il backup non vengono ripristinati: recuperali dal cestino (entro 90 giorni dall'eliminazione) o reimportali dal CSV del backup.",
  noteErrorFile: "Il file degli errori dell'importazione elenca i valori rifiutati da HubSpot: scaricalo dalla pagina Importazioni.",
  err_invalid: "La richiesta non è stata accettata: controlla i dati inseriti e riprova.",
  err_unauthorized: "La sessione è terminata: accedi di nuovo.",
  err_forbidden: "Solo un super amministratore di questo account può farlo.",
  err_reauthentication_required: "Un ripristino richiede un accesso a due fattori degli ultimi minuti. Accedi di nuovo per continuare.",
  err_enterprise_required: "I backup ricorrenti sono una funzione di HubSpot Enterprise: questo account è su {tier}. Crea i backup manualmente (uno alla settimana).",
  err_not_found: "Non esiste più o non appartiene a questo account: ricarica la pagina.",
  err_conflict: "Non si può fare adesso: lo stato è cambiato nel frattempo. Ricarica la pagina e riprova.",
  err_gone: "È scaduto: i suoi file sono stati eliminati.",
  err_quota_exceeded: "La quota di backup è esaurita: il prossimo backup sarà possibile dopo {when}.",
  err_internal: "crmbackup ha avuto un errore interno. Riprova; se si ripete, rivolgiti all'operatore (il log dell'API ha i dettagli).",
  err_unreachable: "Impossibile raggiungere l'API di crmbackup; controlla la connessione e riprova.",
  err_not_json: "L'API ha risposto con qualcosa che non è JSON (HTTP {status}); riprova più tardi.",
  err_throttled: "L'API di crmbackup sta ricevendo troppe richieste in questo momento: attendi qualche secondo e riprova.",
  err_unavailable: "L'API di crmbackup non è disponibile in questo momento: riprova tra un minuto. Se il problema continua, rivolgiti all'operatore.",
  err_unknown: "Si è verificato un problema: {msg}",
  errQuotaUsed: "La quota di backup è esaurita: attendi l'ora indicata dalla riga della quota.",
  errScopes: "HubSpot ha negato l'accesso: alla credenziale dell'account mancano gli ambiti {scopes}. Aggiungili alla chiave di servizio (o all'app privata), poi ripeti la revisione.",
  errRestoreBusy: "È in corso un ripristino oppure questa revisione è già stata eseguita (importazione {id}): se ne esegue uno alla volta.",
  errPlanNotReady: "Questa revisione non si può eseguire adesso: è ancora in calcolo oppure non è riuscita. Torna indietro e ripeti la revisione.",
  errPlanExpired: "Questa revisione è scaduta: torna indietro e ripetila.",
  errExpiresSoon: "Il backup scade il {when}, prima del tempo che un ripristino può richiedere: ripristina da un backup più recente.",
  errNoneWritable: "Nessuna delle proprietà scelte si può scrivere adesso (sono di sola lettura o calcolate): scegline altre.",
  errAcks: "Seleziona prima entrambe le caselle: i dati cambieranno e non si potrà annullare.",
  errDownloadNotReady: "Questo backup non si può scaricare: solo un backup completato si può scaricare.",
  errBackupExpired: "Questo backup è scaduto: il suo file è stato eliminato.",
  errNotRestorable: "Si può ripristinare solo da un backup completato.",
  errScheduleChanged: "Qualcun altro ha modificato la pianificazione nel frattempo: chiudi il pannello, riaprilo e riprova.",
  field_frequency: "Scegli una volta alla settimana, ogni due settimane oppure ogni giorno.",
  field_timeOfDay: "Inserisci un'ora nel formato HH:MM (24 ore), ad esempio 03:30.",
  field_timezone: "Inserisci il nome di un fuso orario come lo riporta il database IANA, ad esempio Europe/Rome o America/New_York.",
  field_dayOfWeek: "Scegli un giorno della settimana.",
  field_code: "Il codice di accesso è errato: apri la console dal link stampato da make local.",
  fieldInvalid: "Questo valore non è accettato.",
  fieldLine: "{label}: {text}",
  fieldUnknown: "Il valore di {field} non è stato accettato: controlla i dati inseriti e riprova.",
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

const fill = (text: string, vars: Record<string, string | number>) => text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));

// t is the text of key in the current language, {name}s filled from vars.
export function t(key: TextKey, vars: Record<string, string | number> = {}): string {
  return fill(catalogues[current][key], vars);
}

// tn is the text of key in the plural form the language uses for count,
// {n} the count formatted for the language unless vars say otherwise.
export function tn(key: PluralKey, count: number, vars: Record<string, string | number> = {}): string {
  const forms = catalogues[current][key];
  const form = new Intl.PluralRules(locale()).select(count) === "one" ? forms.one : forms.other;
  return fill(form, { n: num(count), ...vars });
}

// isKey reports whether the catalogue has a text for key (the API's error
// codes, the fields it names).
export function isKey(key: string): key is TextKey {
  return typeof (catalogues.en as Record<string, unknown>)[key] === "string";
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

// relative is how long ago (or in how long) a time is, in words: "3 hours
// ago", "in 13 days", "tra 13 giorni".
export function relative(iso: string, now = Date.now()): string {
  const secs = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(secs);
  if (abs < 45) return t("justNow");
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  // Up to 59 minutes in minutes, 23 hours in hours, 29 days in days, 11
  // months in months, counted after rounding: 59.6 minutes is "1 hour",
  // not "60 minutes".
  const units: [Intl.RelativeTimeFormatUnit, number, number][] = [
    ["minute", 60, 60],
    ["hour", 3600, 24],
    ["day", 86400, 30],
    ["month", 30 * 86400, 12],
  ];
  for (const [unit, size, below] of units) {
    const n = Math.round(abs / size);
    if (n < below) return rtf.format(Math.sign(secs) * n, unit);
  }
  return rtf.format(Math.sign(secs) * Math.round(abs / (365 * 86400)), "year");
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
