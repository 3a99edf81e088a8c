-- The fleet's change signal (src/services/changes.ts listens): every UPDATE that bumps a paid job's version (what
-- its GET answers changed) announces '<table>:<id>:<version>' on logo_job_changed. A trigger, so the NOTIFY is
-- part of the very transaction that made the change (delivered only if it commits) and no writer can forget it,
-- including the one-statement start of a prediction, at no extra round trip.
CREATE OR REPLACE FUNCTION logo_job_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('logo_job_changed', TG_TABLE_NAME || ':' || NEW.id || ':' || NEW.version);
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER prediction_changed_notify AFTER UPDATE OF version ON prediction
  FOR EACH ROW WHEN (NEW.version IS DISTINCT FROM OLD.version) EXECUTE FUNCTION logo_job_changed_notify();--> statement-breakpoint
CREATE TRIGGER asset_changed_notify AFTER UPDATE OF version ON asset
  FOR EACH ROW WHEN (NEW.version IS DISTINCT FROM OLD.version) EXECUTE FUNCTION logo_job_changed_notify();
