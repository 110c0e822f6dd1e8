//! The lease of a task held for a while by this process: renewed on a timer, released when
//! dropped. The driver and the switchover hold one; the driver's also watches for a cancel
//! requested by another process and for the lease being lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::model::TaskId;
use super::{set_flag, Inner, LeaseBusy, TaskStoreError};
use crate::store::{leases, tasks};

/// The longest pause between two renewals (a third of the lease when that is shorter).
const MAX_PERIOD: Duration = Duration::from_secs(1);

/// What a driver's lease watches for besides renewing: a cancel requested through the store
/// sets `cancel` and fires `stop`; a lease lost to another process fires `stop`.
pub(crate) struct Watch {
    /// The driver's stop token.
    pub(crate) stop: CancellationToken,
    /// Set when another process asked for a cancel.
    pub(crate) cancel: Arc<AtomicBool>,
}

/// A task's lease held by this process. Renewed until [`LeaseGuard::stop_renewing`], and
/// given back when dropped (or by [`LeaseGuard::release`], which waits for the renewal to end
/// first).
pub(crate) struct LeaseGuard {
    inner: Arc<Inner>,
    id: TaskId,
    stop: CancellationToken,
    released: Arc<AtomicBool>,
    renewal: Option<tokio::task::JoinHandle<()>>,
}

impl LeaseGuard {
    /// Takes the lease (refused while another live process holds it) and keeps renewing it.
    /// With `watch`, renewing stops when the driver's stop token fires.
    pub(crate) fn take(
        inner: &Arc<Inner>,
        id: &TaskId,
        watch: Option<Watch>,
    ) -> Result<Result<LeaseGuard, LeaseBusy>, TaskStoreError> {
        if let Err(busy) =
            leases::acquire_lease(inner.store(), id, &inner.me, inner.settings.lease_ttl)?
        {
            return Ok(Err(busy));
        }
        let stop = match &watch {
            Some(w) => w.stop.child_token(),
            None => CancellationToken::new(),
        };
        let released = Arc::new(AtomicBool::new(false));
        let renewal = tokio::spawn(renew(
            inner.clone(),
            id.clone(),
            stop.clone(),
            released.clone(),
            watch,
        ));
        Ok(Ok(LeaseGuard {
            inner: inner.clone(),
            id: id.clone(),
            stop,
            released,
            renewal: Some(renewal),
        }))
    }

    /// Stops renewing; the lease stays until the guard is dropped (or it expires).
    pub(crate) fn stop_renewing(&mut self) {
        self.stop.cancel();
        if let Some(r) = self.renewal.take() {
            r.abort();
        }
    }

    /// Stops renewing, waits for a renewal under way to end, and gives the lease back.
    pub(crate) async fn release(mut self) {
        self.stop.cancel();
        if let Some(r) = self.renewal.take() {
            let _ = r.await;
        }
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        self.released.store(true, Ordering::SeqCst);
        self.stop_renewing();
        let _ = leases::release_lease(self.inner.store(), &self.id, &self.inner.me);
    }
}

/// Renews every third of the lease (at most [`MAX_PERIOD`]) until `stop` fires.
async fn renew(
    inner: Arc<Inner>,
    id: TaskId,
    stop: CancellationToken,
    released: Arc<AtomicBool>,
    watch: Option<Watch>,
) {
    let ttl = inner.settings.lease_ttl;
    let period = (ttl / 3).min(MAX_PERIOD);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        let renewed = leases::acquire_lease(inner.store(), &id, &inner.me, ttl);
        if released.load(Ordering::SeqCst) {
            // Dropped while this renewal ran: the renewal may have written the lease again.
            let _ = leases::release_lease(inner.store(), &id, &inner.me);
            return;
        }
        match renewed {
            Ok(Ok(())) => {}
            Ok(Err(busy)) => match &watch {
                Some(w) => {
                    tracing::warn!(task = %id, "lease lost to process {} on {}; stopping", busy.pid, busy.host);
                    w.stop.cancel();
                    return;
                }
                None => {
                    tracing::warn!(task = %id, "lease lost to process {} on {}", busy.pid, busy.host)
                }
            },
            Err(e) => tracing::warn!(task = %id, error = %e, "cannot renew the lease"),
        }
        if let Some(w) = &watch {
            if tasks::cancel_requested(inner.store(), &id).unwrap_or(false) {
                set_flag(&w.cancel);
                w.stop.cancel();
                return;
            }
        }
    }
}
